package policy

import (
	"errors"

	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// ErrUserDisabled means an admin disabled the user's account: they may
// neither sign in nor add a factor.
var ErrUserDisabled = errors.New("policy: user is disabled")

// Denial is why a user's account status stops them.
type Denial struct {
	// Reason is ReasonUserDisabled or ReasonLockedOut.
	Reason string
	// Message is the sentence to show the person, on a page or a terminal.
	Message string
	// Err is ErrUserDisabled or verify.ErrLockedOut, for callers that
	// return an error.
	Err error
}

var (
	disabledDenial = Denial{ReasonUserDisabled, "Your account is disabled. Contact your help desk.", ErrUserDisabled}
	lockedDenial   = Denial{ReasonLockedOut,
		"Your account is locked after too many wrong passcodes. Contact your help desk to unlock it.", verify.ErrLockedOut}
)

// StatusDenial is the one status gate: a disabled or locked-out user may
// neither sign in nor add or activate a factor, whatever the path (login,
// Universal Prompt, enrollment link, inline enrollment, activation link).
// It returns the denial, or ok false when status lets the user through.
func StatusDenial(status string) (d Denial, denied bool) {
	switch status {
	case store.StatusDisabled:
		return disabledDenial, true
	case store.StatusLockedOut:
		return lockedDenial, true
	}
	return Denial{}, false
}

// LockedOutDenial is the denial of a user who has just been locked out by
// their last wrong code (the status the caller holds is then stale).
func LockedOutDenial() Denial { return lockedDenial }

// StatusError is StatusDenial for callers that return an error: nil, or
// ErrUserDisabled or verify.ErrLockedOut.
func StatusError(u store.User) error {
	if d, denied := StatusDenial(u.Status); denied {
		return d.Err
	}
	return nil
}
