package adminapi

import (
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// The Admin API's objects, typed as Duo's clients decode them: integers for
// times, null for what is unset, and arrays that are never null.

type userObject struct {
	UserID            string            `json:"user_id"`
	Username          string            `json:"username"`
	RealName          string            `json:"realname"`
	FirstName         string            `json:"firstname"`
	LastName          string            `json:"lastname"`
	Email             string            `json:"email"`
	Status            string            `json:"status"`
	Notes             string            `json:"notes"`
	Alias1            *string           `json:"alias1"`
	Alias2            *string           `json:"alias2"`
	Alias3            *string           `json:"alias3"`
	Alias4            *string           `json:"alias4"`
	Aliases           map[string]string `json:"aliases"`
	Created           int64             `json:"created"`
	LastLogin         *int64            `json:"last_login"`
	LastDirectorySync *int64            `json:"last_directory_sync"`
	LockoutReason     *string           `json:"lockout_reason"`
	IsEnrolled        bool              `json:"is_enrolled"`
	Groups            []groupObject     `json:"groups"`
	Phones            []phoneObject     `json:"phones"`
	Tokens            []tokenObject     `json:"tokens"`
	U2FTokens         []any             `json:"u2ftokens"`
	WebAuthn          []webauthnObject  `json:"webauthncredentials"`
}

// briefUser is a user inside a phone, token or group member list.
type briefUser struct {
	UserID   string  `json:"user_id"`
	Username string  `json:"username"`
	RealName string  `json:"realname"`
	Email    string  `json:"email"`
	Status   string  `json:"status"`
	Created  int64   `json:"created"`
	LastLog  *int64  `json:"last_login"`
	Alias1   *string `json:"alias1"`
}

type groupObject struct {
	GroupID          string `json:"group_id"`
	Name             string `json:"name"`
	Desc             string `json:"desc"`
	Status           string `json:"status"`
	MobileOTPEnabled bool   `json:"mobile_otp_enabled"`
	PushEnabled      bool   `json:"push_enabled"`
	SMSEnabled       bool   `json:"sms_enabled"`
	VoiceEnabled     bool   `json:"voice_enabled"`
}

type phoneObject struct {
	PhoneID          string   `json:"phone_id"`
	Number           string   `json:"number"`
	Extension        string   `json:"extension"`
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	Platform         string   `json:"platform"`
	Activated        bool     `json:"activated"`
	Capabilities     []string `json:"capabilities"`
	SMSPasscodesSent bool     `json:"sms_passcodes_sent"`
	Predelay         *string  `json:"predelay"`
	Postdelay        *string  `json:"postdelay"`
	Model            string   `json:"model"`
	LastSeen         string   `json:"last_seen"`
	Encrypted        string   `json:"encrypted"`
	Fingerprint      string   `json:"fingerprint"`
	Screenlock       string   `json:"screenlock"`
	// Users is left out of a phone inside a user, and a list (maybe
	// empty) everywhere else.
	Users *[]briefUser `json:"users,omitempty"`
}

type tokenObject struct {
	TokenID  string `json:"token_id"`
	Type     string `json:"type"`
	Serial   string `json:"serial"`
	TOTPStep *int   `json:"totp_step"`
	// Users is left out of a token inside a user, and a list (maybe
	// empty) everywhere else.
	Users *[]briefUser `json:"users,omitempty"`
}

type webauthnObject struct {
	WebAuthnKey    string `json:"webauthnkey"`
	CredentialName string `json:"credential_name"`
	Label          string `json:"label"`
	DateAdded      int64  `json:"date_added"`
}

// wireStatus is a status as Duo spells it.
func wireStatus(s string) string {
	if s == store.StatusLockedOut {
		return "locked out"
	}
	return s
}

func lastLogin(u store.User) *int64 {
	if u.LastLoginAt == nil {
		return nil
	}
	t := u.LastLoginAt.Unix()
	return &t
}

// userOf is u as Duo answers it, enrolled under methods (see
// policy.OrganisationMethods).
func userOf(u store.APIUser, methods []string) userObject {
	factors := policy.Factors{Phones: u.Phones, SecurityKeys: u.Keys, HardwareTokens: u.Tokens}
	o := userObject{
		UserID: u.Key, Username: u.Username, RealName: u.RealName, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Status: wireStatus(u.Status), Notes: u.Notes, Aliases: map[string]string{},
		Created: u.CreatedAt.Unix(), LastLogin: lastLogin(u.User), IsEnrolled: factors.EnrolledUnder(methods),
		Groups: make([]groupObject, 0, len(u.Groups)), Phones: make([]phoneObject, 0, len(u.Phones)),
		Tokens: make([]tokenObject, 0, len(u.Tokens)), U2FTokens: []any{}, WebAuthn: make([]webauthnObject, 0, len(u.Keys)),
	}
	for i, slot := range []**string{&o.Alias1, &o.Alias2, &o.Alias3, &o.Alias4} {
		if a := u.Aliases[i]; a != "" {
			*slot = &a
			o.Aliases["alias"+string(rune('1'+i))] = a
		}
	}
	if u.Status == store.StatusLockedOut {
		reason := "Failed attempts"
		o.LockoutReason = &reason
	}
	for _, g := range u.Groups {
		o.Groups = append(o.Groups, groupOf(g))
	}
	for _, p := range u.Phones {
		o.Phones = append(o.Phones, phoneOf(store.APIPhone{Phone: p}))
	}
	for _, t := range u.Tokens {
		o.Tokens = append(o.Tokens, tokenOf(t))
	}
	for _, k := range u.Keys {
		o.WebAuthn = append(o.WebAuthn, webauthnOf(k))
	}
	return o
}

func briefOf(u store.User) briefUser {
	return briefUser{UserID: u.Key, Username: u.Username, RealName: u.RealName, Email: u.Email,
		Status: wireStatus(u.Status), Created: u.CreatedAt.Unix(), LastLog: lastLogin(u)}
}

func groupOf(g store.Group) groupObject {
	// Groups here carry no factor restrictions: every factor the portal
	// offers is enabled for every group.
	return groupObject{GroupID: g.Key, Name: g.Name, Desc: g.Description, Status: "Active", MobileOTPEnabled: true}
}

// phoneWithUsers is p with its users listed.
func phoneWithUsers(p store.APIPhone) phoneObject {
	o := phoneOf(p)
	list := make([]briefUser, 0, len(p.Users))
	for _, u := range p.Users {
		list = append(list, briefOf(u))
	}
	o.Users = &list
	return o
}

func phoneOf(p store.APIPhone) phoneObject {
	o := phoneObject{
		PhoneID: p.Key, Number: p.Number, Extension: p.Extension, Name: p.Name, Type: p.Type,
		Platform: p.Platform, Activated: p.Activated, Capabilities: []string{},
		SMSPasscodesSent: p.SMSPasscodesSent > 0, Predelay: p.Predelay, Postdelay: p.Postdelay, Model: "Unknown",
	}
	if o.Platform == "" {
		o.Platform = store.PlatformUnknown
	}
	if p.Activated {
		o.Capabilities = append(o.Capabilities, "mobile_otp")
	}
	return o
}

func tokenOf(t store.HardwareToken) tokenObject {
	o := tokenObject{TokenID: t.Key, Type: t.Type, Serial: t.Serial}
	if t.Type == store.TokenTOTP6 || t.Type == store.TokenTOTP8 {
		step := t.Step
		o.TOTPStep = &step
	}
	return o
}

func webauthnOf(k store.SecurityKey) webauthnObject {
	return webauthnObject{WebAuthnKey: k.Key, CredentialName: k.Name, Label: k.Name, DateAdded: k.CreatedAt.Unix()}
}
