package verify

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// MaxFailures is how many wrong passcodes lock a user out.
const MaxFailures = 10

// ErrLockedOut means the user is locked out and an admin must unlock them.
var ErrLockedOut = errors.New("verify: user is locked out")

// WrongCodeError is a wrong passcode that did not (yet) lock the user out.
type WrongCodeError struct {
	Remaining int // tries left before lockout
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("verify: wrong passcode, %d tries left", e.Remaining)
}

// RecordFailure counts one wrong passcode for user and writes its audit
// records in a transaction of its own (so that the count sticks even though
// the caller's attempt failed). It returns a *WrongCodeError, or ErrLockedOut
// when the user is now locked out; any other error is a storage failure.
func RecordFailure(ctx context.Context, st store.Store, c clock.Clock, user store.User, action string, who audit.Who) error {
	now := c.Now()
	var failures int
	var status string
	err := st.InTx(ctx, func(q store.Queries) error {
		var err error
		failures, status, err = q.RecordUserFailure(ctx, user.ID, MaxFailures, now)
		if err != nil {
			return fmt.Errorf("verify: record failure: %w", err)
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, who, action, audit.TargetUser, user.Username,
			map[string]any{"failures": failures})); err != nil {
			return err
		}
		if status == store.StatusLockedOut && user.Status != store.StatusLockedOut {
			return q.InsertAudit(ctx, audit.Entry(now, who, audit.UserLockedOut, audit.TargetUser, user.Username,
				map[string]any{"failures": failures}))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if status == store.StatusLockedOut {
		return ErrLockedOut
	}
	return &WrongCodeError{Remaining: max(MaxFailures-failures, 0)}
}
