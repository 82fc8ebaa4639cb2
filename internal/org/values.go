package org

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"enrollportal/internal/store"
)

// The settings rows. Every setting is read and written here, through the
// typed functions below; no other package names a row.
const (
	keyName            = "org_name"
	keyHelpDeskMaySend = "helpdesk_may_send"
	keyActivationHours = "activation_validity_hours"
	keyMessageHeader   = "message_header"
	keyMessageLogoURL  = "message_logo_url"
	keyLogo            = "org_logo"
	keyLogoType        = "org_logo_type"
	keyPhoneRegion     = "default_phone_region"
	keySelfRenew       = "enroll_self_renew"
)

// Defaults that apply while a setting is unset.
const (
	// DefaultActivationHours is the validity of activation links.
	DefaultActivationHours = 24
	// DefaultPhoneRegion is the region (ISO 3166 code) of phone numbers
	// written without +country code.
	DefaultPhoneRegion = "US"
)

// Reader reads settings rows: the store, or the Queries of a transaction.
type Reader interface {
	Setting(ctx context.Context, name string) (string, error)
}

// Writer writes settings rows inside a transaction.
type Writer interface {
	Reader
	PutSetting(ctx context.Context, name, value string) error
}

// Values are the organisation's settings as stored, typed, with the
// defaults of unset ones filled in.
type Values struct {
	// Name is the stored name, "" until an admin names the organisation
	// (Settings.Name gives the name to show).
	Name string
	// HelpDeskMaySend lets Help Desk admins send enrollment emails.
	HelpDeskMaySend bool
	// ActivationHours is the validity of activation links an admin set.
	ActivationHours int
	// MessageHeader is the line every email and SMS starts with; "" for
	// the default one (notify.DefaultHeader).
	MessageHeader string
	// MessageLogoURL is the absolute URL of the logo activation emails may
	// show, as stored (notify checks it is a web address).
	MessageLogoURL string
	// Logo is the uploaded logo every page shows, nil when none.
	Logo *Logo
	// PhoneRegion is the region of phone numbers without +country code.
	PhoneRegion string
	// SelfRenew lets users ask for a fresh link when theirs expired.
	SelfRenew bool
}

// Logo is an uploaded image: PNG or JPEG only, since an SVG could carry
// script.
type Logo struct {
	Data []byte
	Type string // image/png or image/jpeg
}

// get reads one row, "" when it is unset.
func get(ctx context.Context, r Reader, key string) (string, error) {
	v, err := r.Setting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("org: read setting %s: %w", key, err)
	}
	return v, nil
}

// Load reads every setting.
func Load(ctx context.Context, r Reader) (Values, error) {
	var v Values
	var err error
	if v.Name, err = get(ctx, r, keyName); err != nil {
		return v, err
	}
	if v.HelpDeskMaySend, err = HelpDeskMaySend(ctx, r); err != nil {
		return v, err
	}
	if v.ActivationHours, err = ActivationHours(ctx, r); err != nil {
		return v, err
	}
	if v.MessageHeader, err = MessageHeader(ctx, r); err != nil {
		return v, err
	}
	if v.MessageLogoURL, err = MessageLogoURL(ctx, r); err != nil {
		return v, err
	}
	if v.Logo, err = LoadLogo(ctx, r); err != nil {
		return v, err
	}
	if v.PhoneRegion, err = PhoneRegion(ctx, r); err != nil {
		return v, err
	}
	v.SelfRenew, err = SelfRenew(ctx, r)
	return v, err
}

// HelpDeskMaySend tells whether Help Desk admins may send enrollment emails
// (off until an owner turns it on).
func HelpDeskMaySend(ctx context.Context, r Reader) (bool, error) {
	v, err := get(ctx, r, keyHelpDeskMaySend)
	return v == "true", err
}

// ActivationHours is the validity of activation links an admin set, or
// DefaultActivationHours.
func ActivationHours(ctx context.Context, r Reader) (int, error) {
	v, err := get(ctx, r, keyActivationHours)
	if err != nil || v == "" {
		return DefaultActivationHours, err
	}
	h, err := strconv.Atoi(v)
	if err != nil || h < 1 || h > MaxActivationHours {
		return DefaultActivationHours, nil
	}
	return h, nil
}

// MessageHeader is the header line of messages an admin set, "" for the
// default one.
func MessageHeader(ctx context.Context, r Reader) (string, error) {
	v, err := get(ctx, r, keyMessageHeader)
	return strings.TrimSpace(v), err
}

// MessageLogoURL is the stored address of the logo emails may show.
func MessageLogoURL(ctx context.Context, r Reader) (string, error) {
	v, err := get(ctx, r, keyMessageLogoURL)
	return strings.TrimSpace(v), err
}

// LoadLogo reads the uploaded logo, nil when there is none (or its row
// cannot be decoded).
func LoadLogo(ctx context.Context, r Reader) (*Logo, error) {
	enc, err := get(ctx, r, keyLogo)
	if err != nil || enc == "" {
		return nil, err
	}
	ctype, err := get(ctx, r, keyLogoType)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, nil
	}
	return &Logo{Data: data, Type: ctype}, nil
}

// PhoneRegion is the region of phone numbers without +country code, in
// upper case, or DefaultPhoneRegion.
func PhoneRegion(ctx context.Context, r Reader) (string, error) {
	v, err := get(ctx, r, keyPhoneRegion)
	if err != nil || v == "" {
		return DefaultPhoneRegion, err
	}
	return strings.ToUpper(v), nil
}

// SelfRenew tells whether users may ask for a fresh enrollment link when
// theirs has expired: on unless the row says "off", since the new link only
// ever goes to the address already on file.
func SelfRenew(ctx context.Context, r Reader) (bool, error) {
	v, err := get(ctx, r, keySelfRenew)
	return v != "off", err
}
