package org

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// Limits of the settings an admin types in.
const (
	MaxNameLength          = 100
	MaxActivationHours     = 24 * 30
	MaxMessageHeaderLength = 300
)

// Problems with an admin's settings form, each a sentence fragment a page
// can show (capitalised, with a full stop).
var (
	ErrName            = errors.New("the organisation's name is 1 to 100 characters")
	ErrActivationHours = errors.New("enter a whole number of hours from 1 to 720 (30 days)")
	ErrMessageHeader   = errors.New("the header line is one line of at most 300 characters")
)

// CheckForm tells what is wrong with the settings an admin typed, by field
// (org_name, activation_hours, message_header).
func CheckForm(name, activationHours, messageHeader string) map[string]error {
	problems := map[string]error{}
	// Both are shown on every page and start every message: stored text
	// follows the one rule (package text), whatever path it came in by.
	if err := text.Check("organisation name", name); err != nil {
		problems["org_name"] = err
	} else if n := utf8.RuneCountInString(name); n == 0 || n > MaxNameLength {
		problems["org_name"] = ErrName
	}
	if h, err := strconv.Atoi(activationHours); err != nil || h < 1 || h > MaxActivationHours {
		problems["activation_hours"] = ErrActivationHours
	}
	if err := text.Check("header line", messageHeader); err != nil {
		problems["message_header"] = err
	} else if utf8.RuneCountInString(messageHeader) > MaxMessageHeaderLength || strings.ContainsAny(messageHeader, "\r\n") {
		problems["message_header"] = ErrMessageHeader
	}
	return problems
}

// Change is an admin's change of the organisation's settings: a nil field
// leaves its setting as it is.
type Change struct {
	Name            *string
	HelpDeskMaySend *bool
	ActivationHours *int
	MessageHeader   *string
	MessageLogoURL  *string
	PhoneRegion     *string
	SelfRenew       *bool
	// Logo replaces the uploaded logo; RemoveLogo removes it.
	Logo       *Logo
	RemoveLogo bool
}

// Save writes what ch changes and one audit record naming it (a logo is
// described, not repeated), in one transaction at time at, then drops the
// cached values. It reports false, writing nothing, when ch changes
// nothing.
func (s *Settings) Save(ctx context.Context, ch Change, who audit.Who, at time.Time) (bool, error) {
	changed := false
	err := s.store.InTx(ctx, func(q store.Queries) error {
		old, err := Load(ctx, q)
		if err != nil {
			return err
		}
		rows, details := map[string]string{}, map[string]any{}
		set := func(key, value string) { rows[key], details[key] = value, value }
		// An unnamed organisation's form shows the name in use, which is
		// no change when it comes back.
		if ch.Name != nil && *ch.Name != s.nameOr(old.Name) {
			set(keyName, *ch.Name)
		}
		if ch.HelpDeskMaySend != nil && *ch.HelpDeskMaySend != old.HelpDeskMaySend {
			set(keyHelpDeskMaySend, strconv.FormatBool(*ch.HelpDeskMaySend))
		}
		if ch.ActivationHours != nil && *ch.ActivationHours != old.ActivationHours {
			set(keyActivationHours, strconv.Itoa(*ch.ActivationHours))
		}
		if ch.MessageHeader != nil && *ch.MessageHeader != old.MessageHeader {
			set(keyMessageHeader, *ch.MessageHeader)
		}
		if ch.MessageLogoURL != nil && *ch.MessageLogoURL != old.MessageLogoURL {
			set(keyMessageLogoURL, *ch.MessageLogoURL)
		}
		if ch.PhoneRegion != nil && strings.ToUpper(*ch.PhoneRegion) != old.PhoneRegion {
			set(keyPhoneRegion, strings.ToUpper(*ch.PhoneRegion))
		}
		if ch.SelfRenew != nil && *ch.SelfRenew != old.SelfRenew {
			set(keySelfRenew, map[bool]string{true: "on", false: "off"}[*ch.SelfRenew])
		}
		switch {
		case ch.Logo != nil:
			rows[keyLogo], rows[keyLogoType] = base64.StdEncoding.EncodeToString(ch.Logo.Data), ch.Logo.Type
			details["logo"] = "uploaded (" + ch.Logo.Type + ", " + strconv.Itoa(len(ch.Logo.Data)) + " bytes)"
		case ch.RemoveLogo && old.Logo != nil:
			rows[keyLogo], rows[keyLogoType] = "", ""
			details["logo"] = "removed"
		}
		if len(rows) == 0 {
			return nil
		}
		changed = true
		for name, value := range rows {
			if err := q.PutSetting(ctx, name, value); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(at, who, audit.SettingsChanged, audit.TargetSettings, "organisation", details))
	})
	if err != nil || !changed {
		return false, err
	}
	s.Forget()
	return true, nil
}
