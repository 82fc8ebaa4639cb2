package policy

import (
	"sort"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Country is an ISO 3166-1 alpha-2 code with its English name.
type Country struct {
	Code string
	Name string
}

// Countries lists every ISO 3166-1 country, by name, built from the
// language tables compiled into the binary: the page that offers them
// makes no outside request.
var Countries = func() []Country {
	names := display.English.Regions()
	var out []Country
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code {
				continue
			}
			if name := names.Name(r); name != "" {
				out = append(out, Country{Code: code, Name: name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}()

// CountryName is the name of an ISO code, or the code itself when unknown.
func CountryName(code string) string {
	for _, c := range Countries {
		if c.Code == code {
			return c.Name
		}
	}
	return code
}

func validCountry(code string) bool {
	for _, c := range Countries {
		if c.Code == code {
			return true
		}
	}
	return false
}
