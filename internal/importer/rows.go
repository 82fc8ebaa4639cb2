package importer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"enrollportal/internal/store"
	"enrollportal/internal/text"
	"enrollportal/internal/users"
)

// record is one data row read by the layout, before it is checked against
// the database. Empty values mean "leave as is".
type record struct {
	username, realname, email, status, notes   string
	hasRealname, hasEmail, hasStatus, hasNotes bool
	aliases                                    [store.MaxAliases]string
	hasAlias                                   [store.MaxAliases]bool
	phones                                     []rawPhone
	groups                                     []string
	tokens                                     []string
}

type rawPhone struct {
	index                  int
	number, platform, kind string
}

func (l layout) read(fields []string) record {
	var r record
	var phones map[int]*rawPhone
	phone := func(i int) *rawPhone {
		if phones == nil {
			phones = map[int]*rawPhone{}
		}
		if phones[i] == nil {
			phones[i] = &rawPhone{index: i}
		}
		return phones[i]
	}
	for i, c := range l.cols {
		if i >= len(fields) {
			break
		}
		v := strings.TrimSpace(fields[i])
		switch c.field {
		case "username":
			r.username = v
		case "realname":
			r.realname, r.hasRealname = v, v != ""
		case "email":
			r.email, r.hasEmail = v, v != ""
		case "status":
			r.status, r.hasStatus = v, v != ""
		case "notes":
			r.notes, r.hasNotes = v, v != ""
		case "alias":
			r.aliases[c.index-1], r.hasAlias[c.index-1] = v, v != ""
		case "phone":
			if v != "" {
				phone(c.index).number = v
			}
		case "platform":
			if v != "" {
				phone(c.index).platform = v
			}
		case "type":
			if v != "" {
				phone(c.index).kind = v
			}
		case "group":
			if v != "" {
				r.groups = append(r.groups, v)
			}
		case "token":
			if v != "" {
				r.tokens = append(r.tokens, v)
			}
		}
	}
	for i := 1; i <= l.phones; i++ {
		if p := phones[i]; p != nil {
			r.phones = append(r.phones, *p)
		}
	}
	return r
}

// platformNames maps what import files say to the platforms Duo spells.
var platformNames = map[string]string{
	"iphone": store.PlatformIOS, "ios": store.PlatformIOS, "apple ios": store.PlatformIOS,
	"android": store.PlatformAndroid, "google android": store.PlatformAndroid,
	"smartphone": store.PlatformGeneric, "generic smartphone": store.PlatformGeneric,
	"unknown": store.PlatformUnknown,
}

// Platform turns an import file's platform (iphone, android, smartphone, or
// the full names, any case) into the stored spelling.
func Platform(s string) (string, bool) {
	p, ok := platformNames[strings.ToLower(strings.Join(strings.Fields(s), " "))]
	return p, ok
}

// plannedPhone is a phone of a row, checked.
type plannedPhone struct {
	Number, Extension, Type, Platform string
}

// checkPhone validates one phone of a row in the default region.
func checkPhone(p rawPhone, region string) (plannedPhone, error) {
	out := plannedPhone{Type: strings.ToLower(p.kind)}
	switch out.Type {
	case "", store.PhoneMobile, store.PhoneLandline, store.PhoneTablet:
	default:
		return out, fmt.Errorf("type%d %q is not mobile, landline or tablet", p.index, p.kind)
	}
	if p.platform != "" {
		pl, ok := Platform(p.platform)
		if !ok {
			return out, fmt.Errorf("platform%d %q is not iphone, android or smartphone", p.index, p.platform)
		}
		out.Platform = pl
	}
	if out.Type == store.PhoneTablet {
		if p.number != "" {
			return out, fmt.Errorf("phone%d: a tablet has no phone number; leave phone%d empty", p.index, p.index)
		}
		if out.Platform == "" {
			out.Platform = store.PlatformGeneric
		}
		return out, nil
	}
	if p.number == "" {
		return out, fmt.Errorf("platform%d or type%d is set but phone%d is empty", p.index, p.index, p.index)
	}
	if len(p.number) > 40 {
		return out, fmt.Errorf("phone%d %q is not a phone number", p.index, p.number)
	}
	n, err := phonenumbers.Parse(p.number, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return out, fmt.Errorf("phone%d %q is not a valid phone number (write it with +country code if it is not in %s)", p.index, p.number, region)
	}
	out.Number = phonenumbers.Format(n, phonenumbers.E164)
	out.Extension = n.GetExtension()
	if out.Type == "" {
		// Only guessed when the file does not say: the lookup costs as much
		// as the parse.
		out.Type = store.PhoneMobile
		if phonenumbers.GetNumberType(n) == phonenumbers.FIXED_LINE {
			out.Type = store.PhoneLandline
		}
	}
	if out.Platform == "" {
		out.Platform = store.PlatformUnknown
		if out.Type == store.PhoneMobile {
			out.Platform = store.PlatformGeneric
		}
	}
	if out.Type == store.PhoneLandline && out.Platform != store.PlatformUnknown {
		return out, fmt.Errorf("phone%d is a landline, which has no platform; leave platform%d empty", p.index, p.index)
	}
	return out, nil
}

// Statuses an import may set; locked_out is only ever set by the portal.
var importStatuses = map[string]string{
	"active": store.StatusActive, "bypass": store.StatusBypass, "disabled": store.StatusDisabled,
}

// Limits of free-text fields.
const (
	maxRealName  = 200
	maxNotes     = 1000
	maxGroupName = 100
	maxSerial    = 64
)

func checkText(name, v string, limit int) error {
	if err := text.Check(name, v); err != nil {
		return err
	}
	if utf8.RuneCountInString(v) > limit {
		return fmt.Errorf("%s is longer than %d characters", name, limit)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s contains control characters", name)
		}
	}
	return nil
}

// checkUsernameLike normalizes and validates a username or alias.
func checkUsernameLike(what, v string) (string, error) {
	n := users.Normalize(v)
	if err := users.ValidateUsername(n); err != nil {
		return n, fmt.Errorf("%s %q: %v", what, v, err)
	}
	return n, nil
}

func checkEmail(email string) error { return users.ValidateEmail(email) }
