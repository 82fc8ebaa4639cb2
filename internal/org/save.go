package org

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
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
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxNameLength {
		problems["org_name"] = ErrName
	}
	if h, err := strconv.Atoi(activationHours); err != nil || h < 1 || h > MaxActivationHours {
		problems["activation_hours"] = ErrActivationHours
	}
	if utf8.RuneCountInString(messageHeader) > MaxMessageHeaderLength || strings.ContainsAny(messageHeader, "\r\n") {
		problems["message_header"] = ErrMessageHeader
	}
	return problems
}

// Change is an admin's change of the organisation's settings: the rows to
// write, and what the audit record says of them (an image is described,
// not repeated).
type Change struct {
	Rows    map[string]string
	Details map[string]any
}

// Save writes the rows of ch and one audit record naming what changed, in
// one transaction at time at, then drops the cached values.
func (s *Settings) Save(ctx context.Context, ch Change, who audit.Who, at time.Time) error {
	err := s.store.InTx(ctx, func(q store.Queries) error {
		for name, value := range ch.Rows {
			if err := q.PutSetting(ctx, name, value); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(at, who, audit.SettingsChanged, audit.TargetSettings, "organisation", ch.Details))
	})
	if err != nil {
		return err
	}
	s.Forget()
	return nil
}
