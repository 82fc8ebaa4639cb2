// Package text holds the rule every stored piece of free text (names,
// notes, group names, email addresses) follows, whatever path it came in
// by: valid UTF-8 without NUL bytes. A NUL byte cuts the value short in C
// tools that read the database or exports (login_duo, sqlite3, spreadsheet
// imports), and bytes that are not UTF-8 turn into replacement characters
// or errors in every page, CSV export and JSON answer that shows them.
package text

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalid matches every error of Check.
var ErrInvalid = errors.New("text: not valid UTF-8 or holds a NUL byte")

// Error says which field holds which problem, in a sentence a person can act
// on.
type Error struct {
	Field   string // as people call it: "real name", "notes", "group name"
	Problem string
}

func (e *Error) Error() string { return "The " + e.Field + " field " + e.Problem }

// Unwrap lets errors.Is(err, ErrInvalid) find every Error.
func (e *Error) Unwrap() error { return ErrInvalid }

// Check returns an *Error when value is not valid UTF-8 or holds a NUL
// byte; field names the value in the message.
func Check(field, value string) error {
	switch {
	case !utf8.ValidString(value):
		return &Error{Field: field, Problem: "is not valid UTF-8 text; save or send it as UTF-8"}
	case strings.IndexByte(value, 0) >= 0:
		return &Error{Field: field, Problem: "contains a NUL character (byte 0); remove it"}
	}
	return nil
}

// CheckAll checks field/value pairs in order and returns the first problem.
func CheckAll(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := Check(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
