package enroll

import (
	"errors"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"enrollportal/internal/store"
)

// ErrInvalidNumber means the number is not a valid phone number for the
// chosen country.
var ErrInvalidNumber = errors.New("enroll: invalid phone number")

// ErrNotMobile means the number is valid but belongs to a landline, which
// cannot run an authenticator app.
var ErrNotMobile = errors.New("enroll: not a mobile number")

// PhoneNumber is a parsed, validated number.
type PhoneNumber struct {
	E164          string // +15555550123: what is stored
	International string // +1 555-555-0123: what is shown back
}

// ParsePhoneNumber validates number for the region (ISO 3166 code such as
// "US"); a number written with +country code is accepted whatever region.
func ParsePhoneNumber(region, number string) (PhoneNumber, error) {
	number = strings.TrimSpace(number)
	if number == "" || len(number) > 40 {
		return PhoneNumber{}, ErrInvalidNumber
	}
	n, err := phonenumbers.Parse(number, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return PhoneNumber{}, ErrInvalidNumber
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST:
		return PhoneNumber{}, ErrNotMobile
	}
	return PhoneNumber{
		E164:          phonenumbers.Format(n, phonenumbers.E164),
		International: phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
	}, nil
}

// FormatNumber shows a stored E.164 number the way people read it.
func FormatNumber(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// ExampleMobile is a mobile number of the region as people there write it
// (national format), for the hint under the number field: one that
// ParsePhoneNumber accepts for that region. Empty when the library has none.
func ExampleMobile(region string) string {
	n := phonenumbers.GetExampleNumberForType(strings.ToUpper(region), phonenumbers.MOBILE)
	if n == nil {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.NATIONAL)
}

// Country is one entry of the country picker.
type Country struct {
	Region string // "US"
	Code   int    // 1
}

// Countries lists every region the phone library knows, by region code.
func Countries() []Country {
	var out []Country
	for region := range phonenumbers.GetSupportedRegions() {
		out = append(out, Country{Region: region, Code: phonenumbers.GetCountryCodeForRegion(region)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// Platforms users pick from when adding a phone, in the order shown.
var Platforms = []string{store.PlatformIOS, store.PlatformAndroid, store.PlatformGeneric}

// ValidPlatform reports whether p is one of Platforms.
func ValidPlatform(p string) bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}
