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
// It is also the answer while MaxFailures attempts are being checked at
// once: no further code is looked at until one of them settles.
var ErrLockedOut = errors.New("verify: user is locked out")

// ErrWrongCode, returned by an Accept, turns a code that matched into a
// wrong one: a concurrent login spent the same code first.
var ErrWrongCode = errors.New("verify: code already used")

// WrongCodeError is a wrong passcode that did not (yet) lock the user out.
type WrongCodeError struct {
	Remaining int // tries left before lockout
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("verify: wrong passcode, %d tries left", e.Remaining)
}

// LockoutStore is what the lockout needs of the database. Every count
// changes in a transaction, so that it queues with the other writers
// instead of meeting them as a busy database; the transactions are shared
// ones (InGroupTx), since the writes of a code check are small and
// concurrent checks then share their commits. Each conditional update still
// runs alone on the one writer, after the ones queued before it, so the
// reservation stays atomic; each write is committed before CheckCode goes
// on.
type LockoutStore interface {
	InGroupTx(ctx context.Context, fn func(store.Queries) error) error
}

// Accept makes the writes of a right code (spend the code, store the new
// device) inside the transaction that settles the attempt, after the
// failure count is cleared. ErrWrongCode makes the attempt a wrong code;
// any other error rolls the transaction back and gives the attempt back.
type Accept func(ctx context.Context, q store.Queries) error

// CodeCheck is one look at a code a user typed.
type CodeCheck struct {
	User store.User
	Who  audit.Who
	// WrongAction is the audit action of a wrong code.
	WrongAction string
	// Match compares the code with what it should be. It returns the
	// writes of a right code, or nil for a wrong one; an error means the
	// code could not be checked.
	Match func() (Accept, error)
}

// CheckCode runs cc.Match as one counted attempt of cc.User, and is the only
// way a user's code is checked. The attempt is reserved first, by a
// conditional update of the failure count that refuses once MaxFailures
// attempts are counted or the user is locked out (ErrLockedOut), so that
// concurrent guesses cannot check more codes than the limit, however many
// arrive at once. A right code clears the count in the transaction of its
// Accept, unless the user was locked out meanwhile (ErrLockedOut: nothing
// is written). A wrong one keeps its count, is audited under
// cc.WrongAction, and locks the user out when the count has reached
// MaxFailures; it returns *WrongCodeError or ErrLockedOut. An attempt that
// could not be checked (an error) is given back.
func CheckCode(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck) error {
	var n int
	var ok bool
	err := st.InGroupTx(ctx, func(q store.Queries) error {
		var err error
		n, ok, err = q.ReserveUserAttempt(ctx, cc.User.ID, MaxFailures)
		return err
	})
	if err != nil {
		return fmt.Errorf("verify: reserve attempt: %w", err)
	}
	if !ok {
		return ErrLockedOut
	}
	accept, err := cc.Match()
	if err == nil && accept != nil {
		err = st.InGroupTx(ctx, func(q store.Queries) error {
			cleared, err := q.PassUserAttempt(ctx, cc.User.ID)
			if err != nil {
				return err
			}
			if !cleared {
				return ErrLockedOut
			}
			return accept(ctx, q)
		})
		if err == nil || errors.Is(err, ErrLockedOut) {
			return err
		}
		if errors.Is(err, ErrWrongCode) {
			accept, err = nil, nil
		}
	}
	if err != nil {
		rerr := st.InGroupTx(ctx, func(q store.Queries) error { return q.ReturnUserAttempt(ctx, cc.User.ID) })
		if rerr != nil {
			return errors.Join(err, fmt.Errorf("verify: give attempt back: %w", rerr))
		}
		return err
	}
	return recordWrongCode(ctx, st, c, cc, n)
}

// recordWrongCode settles attempt n of cc as a wrong code and writes its
// audit records in a transaction of its own (so that they stick even though
// the caller's attempt failed).
func recordWrongCode(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck, n int) error {
	now := c.Now()
	var failures int
	var status string
	err := st.InGroupTx(ctx, func(q store.Queries) error {
		var lockedNow bool
		var err error
		failures, status, lockedNow, err = q.FailUserAttempt(ctx, cc.User.ID, MaxFailures, now)
		if err != nil {
			return fmt.Errorf("verify: record failure: %w", err)
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, cc.Who, cc.WrongAction, audit.TargetUser, cc.User.Username,
			map[string]any{"failures": n})); err != nil {
			return err
		}
		if lockedNow {
			return q.InsertAudit(ctx, audit.Entry(now, cc.Who, audit.UserLockedOut, audit.TargetUser, cc.User.Username,
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
