package admin

import (
	"time"

	"enrollportal/internal/store"
)

// Small wording helpers of the admin pages and their templates.

// statusLabel names a user status for the admin pages.
func statusLabel(status string) string {
	switch status {
	case store.StatusActive:
		return "Active: must use two-factor sign-in"
	case store.StatusBypass:
		return "Bypass: signs in without a second factor"
	case store.StatusDisabled:
		return "Disabled: cannot sign in"
	case store.StatusLockedOut:
		return "Locked out: too many wrong codes"
	}
	return status
}

// formatWhen shows a time the way the admin pages do: UTC, to the minute.
// It takes time.Time or *time.Time (nil shows a dash).
func formatWhen(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if t == nil {
			return "-"
		}
		return formatWhen(*t)
	}
	return "-"
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// firstN is at most the first n of xs, for lists a page shortens.
func firstN[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}
