package directory

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/nyaruka/phonenumbers"
)

// Directory kinds as an admin names them.
const (
	KindOpenLDAP        = "openldap"
	KindActiveDirectory = "active-directory"
)

// storeKind is the value of directories.kind for a kind (the schema calls
// OpenLDAP "ldap").
func storeKind(kind string) string {
	if kind == KindOpenLDAP {
		return "ldap"
	}
	return kind
}

// Membership modes: where a directory says who is in a group.
const (
	// MemberOnGroup reads the member (or uniqueMember) attribute of the
	// group entries.
	MemberOnGroup = "member"
	// MemberOfOnUser searches users by their memberOf attribute (on Active
	// Directory through the in-chain matching rule, so nested groups count).
	MemberOfOnUser = "memberOf"
)

// Mapping says which LDAP attributes hold what the portal keeps of a user.
type Mapping struct {
	UserFilter  string   `json:"user_filter"`  // which entries are users
	GroupFilter string   `json:"group_filter"` // which entries are groups
	Username    string   `json:"username"`
	RealName    string   `json:"realname"`
	Email       string   `json:"email"`
	Phones      []string `json:"phones"`
	StableID    string   `json:"stable_id"`
	GroupName   string   `json:"group_name"`
	Membership  string   `json:"membership"`  // MemberOnGroup or MemberOfOnUser
	MemberAttr  string   `json:"member_attr"` // member or uniqueMember (MemberOnGroup)
}

// Settings are a directory's settings, as an admin gives them. The bind
// password is not among them: it is sealed apart and never shown again.
type Settings struct {
	Kind        string   `json:"kind"`
	URL         string   `json:"url"`
	StartTLS    bool     `json:"start_tls"`
	CAPEM       string   `json:"ca_pem"`
	BindDN      string   `json:"bind_dn"`
	UsersBase   string   `json:"users_base"`
	GroupsBase  string   `json:"groups_base"`
	ExtraFilter string   `json:"extra_filter"`
	Groups      []string `json:"groups"` // names (cn) of the groups to sync; empty: all users
	// DefaultCountry is the region (ISO 3166 alpha-2) of phone numbers
	// written without +country code.
	DefaultCountry string `json:"default_country"`
	// RemovalShare is the share of the synced users (0.10 = 10%) a run may
	// disable or remove without an admin's confirmation.
	RemovalShare float64 `json:"removal_share"`
	Mapping      Mapping `json:"mapping"`
	// ScheduleMinutes is how often the portal syncs the directory on its
	// own; 0 (the default) is never.
	ScheduleMinutes int `json:"schedule_minutes"`
	// EnrollmentEmails sends each user a sync creates, who has an email,
	// an enrollment email (off by default).
	EnrollmentEmails bool `json:"enrollment_emails"`
}

// Bounds of a schedule: more often than every 5 minutes would keep a
// large directory's server busy; a week is the longest anyone needs.
const (
	MinScheduleMinutes = 5
	MaxScheduleMinutes = 7 * 24 * 60
)

// Preset is the mapping of a kind of directory: what an admin starts from.
func Preset(kind string) Mapping {
	if kind == KindActiveDirectory {
		return Mapping{
			UserFilter:  "(&(objectCategory=person)(objectClass=user))",
			GroupFilter: "(objectClass=group)",
			Username:    "sAMAccountName", RealName: "displayName", Email: "mail",
			Phones:   []string{"mobile", "telephoneNumber"},
			StableID: "objectGUID", GroupName: "cn",
			Membership: MemberOfOnUser,
		}
	}
	return Mapping{
		UserFilter:  "(objectClass=inetOrgPerson)",
		GroupFilter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
		Username:    "uid", RealName: "cn", Email: "mail",
		Phones:   []string{"mobile", "telephoneNumber"},
		StableID: "entryUUID", GroupName: "cn",
		Membership: MemberOnGroup, MemberAttr: "member",
	}
}

// DefaultRemovalShare is the share of synced users a run may disable
// without confirmation.
const DefaultRemovalShare = 0.10

// withDefaults fills what an admin left empty from the kind's preset.
func (s Settings) withDefaults() Settings {
	p := Preset(s.Kind)
	m := &s.Mapping
	fill := func(dst *string, v string) {
		if strings.TrimSpace(*dst) == "" {
			*dst = v
		}
	}
	fill(&m.UserFilter, p.UserFilter)
	fill(&m.GroupFilter, p.GroupFilter)
	fill(&m.Username, p.Username)
	fill(&m.RealName, p.RealName)
	fill(&m.Email, p.Email)
	fill(&m.StableID, p.StableID)
	fill(&m.GroupName, p.GroupName)
	fill(&m.Membership, p.Membership)
	fill(&m.MemberAttr, p.MemberAttr)
	if m.MemberAttr == "" {
		m.MemberAttr = "member"
	}
	if m.Phones == nil {
		m.Phones = p.Phones
	}
	if s.RemovalShare == 0 {
		s.RemovalShare = DefaultRemovalShare
	}
	fill(&s.DefaultCountry, "US")
	s.DefaultCountry = strings.ToUpper(s.DefaultCountry)
	return s
}

// FieldError is a setting an admin must correct; nothing was saved.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Validate checks settings and returns them with the kind's presets
// applied where the admin left a mapping empty.
func (s Settings) Validate() (Settings, error) {
	s.URL, s.BindDN = strings.TrimSpace(s.URL), strings.TrimSpace(s.BindDN)
	s.UsersBase, s.GroupsBase = strings.TrimSpace(s.UsersBase), strings.TrimSpace(s.GroupsBase)
	s.ExtraFilter = strings.TrimSpace(s.ExtraFilter)
	if s.Kind != KindOpenLDAP && s.Kind != KindActiveDirectory {
		return s, fieldErr("kind", "choose openldap or active-directory")
	}
	s = s.withDefaults()
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return s, fieldErr("url", "write the address as ldap://host:port or ldaps://host:port")
	}
	if s.StartTLS && u.Scheme == "ldaps" {
		return s, fieldErr("start_tls", "StartTLS is for ldap:// addresses; ldaps:// is already encrypted")
	}
	if strings.TrimSpace(s.CAPEM) != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(s.CAPEM)) {
			return s, fieldErr("ca", "the CA is not a PEM certificate")
		}
	}
	if s.BindDN == "" {
		return s, fieldErr("bind_dn", "give the DN to bind as")
	}
	for field, dn := range map[string]string{"bind_dn": s.BindDN, "users_base": s.UsersBase, "groups_base": s.GroupsBase} {
		if dn == "" && field != "users_base" {
			continue
		}
		if _, err := ldap.ParseDN(dn); err != nil || dn == "" {
			return s, fieldErr(field, "%q is not a DN (like ou=people,dc=example,dc=org)", dn)
		}
	}
	if len(s.Groups) > 0 && s.GroupsBase == "" {
		return s, fieldErr("groups_base", "give the base DN of the groups to sync them")
	}
	for _, f := range []struct{ field, filter string }{{"extra_filter", s.ExtraFilter}, {"user_filter", s.Mapping.UserFilter}, {"group_filter", s.Mapping.GroupFilter}} {
		if f.filter == "" {
			continue
		}
		if _, err := ldap.CompileFilter(f.filter); err != nil {
			return s, fieldErr(f.field, "%q is not an LDAP filter", f.filter)
		}
	}
	m := s.Mapping
	for _, a := range []struct{ field, attr string }{{"username_attr", m.Username}, {"realname_attr", m.RealName}, {"email_attr", m.Email},
		{"stable_id_attr", m.StableID}, {"group_name_attr", m.GroupName}, {"member_attr", m.MemberAttr}} {
		if !validAttr(a.attr) {
			return s, fieldErr(a.field, "%q is not an attribute name (letters, digits and dashes, starting with a letter)", a.attr)
		}
	}
	for _, a := range m.Phones {
		if !validAttr(a) {
			return s, fieldErr("phone_attrs", "%q is not an attribute name (letters, digits and dashes, starting with a letter)", a)
		}
	}
	if s.Mapping.Membership != MemberOnGroup && s.Mapping.Membership != MemberOfOnUser {
		return s, fieldErr("membership", "choose member (on group entries) or memberOf (on user entries)")
	}
	if s.ScheduleMinutes != 0 && (s.ScheduleMinutes < MinScheduleMinutes || s.ScheduleMinutes > MaxScheduleMinutes) {
		return s, fieldErr("schedule", "give a number of minutes from %d to %d, or 0 to sync only when asked", MinScheduleMinutes, MaxScheduleMinutes)
	}
	if s.RemovalShare < 0 || s.RemovalShare > 1 {
		return s, fieldErr("removal_share", "give a share between 0 and 1")
	}
	if len(phonenumbers.GetSupportedRegions()) > 0 {
		if _, ok := phonenumbers.GetSupportedRegions()[s.DefaultCountry]; !ok {
			return s, fieldErr("default_country", "%q is not a country code (like US or DE)", s.DefaultCountry)
		}
	}
	return s, nil
}

// validAttr reports whether a is an LDAP attribute description a search
// can ask for (RFC 4512 descr: a letter, then letters, digits, dashes).
func validAttr(a string) bool {
	if a == "" || len(a) > 128 {
		return false
	}
	for i, r := range a {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '-')) {
			return false
		}
	}
	return true
}

// validated validates s and encodes the result for the store.
func (s Settings) validated() (Settings, string, error) {
	s, err := s.Validate()
	if err != nil {
		return s, "", err
	}
	config, err := s.encode()
	return s, config, err
}

func (s Settings) encode() (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

func decodeSettings(config string) (Settings, error) {
	var s Settings
	if err := json.Unmarshal([]byte(config), &s); err != nil {
		return s, errors.New("directory: the stored settings are unreadable: " + err.Error())
	}
	return s.withDefaults(), nil
}
