package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// CodeCheck is one look at a code a user typed. It has Match or Decide.
type CodeCheck struct {
	User store.User
	Who  audit.Who
	// WrongAction is the audit action of a wrong code.
	WrongAction string
	// Match compares the code with what it should be. It returns the
	// writes of a right code, or nil for a wrong one; an error means the
	// code could not be checked. It runs between the transaction that
	// reserves the attempt and the one that settles it, so it may take its
	// time (open secrets, read the database).
	Match func() (Accept, error)
	// Decide is Match for a comparison that is quick and reads the
	// database only through q: it runs inside the one transaction that
	// reserves the attempt and settles it, right after the reservation, so
	// a check costs one write transaction instead of two or three (the
	// transaction is shared with other writers, which wait for it: Decide
	// must never block). An error rolls the reservation back with
	// everything else: the attempt is given back.
	Decide func(ctx context.Context, q store.Queries) (Accept, error)
}

// CheckCode runs cc.Match (or cc.Decide) as one counted attempt of
// cc.User, and is the only way a user's code is checked. The attempt is
// reserved first, by a conditional update of the failure count that refuses
// once MaxFailures attempts are counted or the user is locked out
// (ErrLockedOut), so that concurrent guesses cannot check more codes than
// the limit, however many arrive at once. A right code clears the count in
// the transaction of its Accept, unless the user was locked out meanwhile
// (ErrLockedOut: nothing is written). A wrong one keeps its count, is
// audited under cc.WrongAction, and locks the user out when the count has
// reached MaxFailures; it returns *WrongCodeError or ErrLockedOut. An
// attempt that could not be checked (an error) is given back.
func CheckCode(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck) error {
	if cc.Decide != nil {
		return checkCodeInOneTx(ctx, st, c, cc)
	}
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
		err = st.InGroupTx(ctx, func(q store.Queries) error { return passAttemptTx(ctx, q, cc, accept) })
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

// errRefused leaves the transaction of a refused reservation, which wrote
// nothing.
var errRefused = errors.New("verify: attempt refused")

// checkCodeInOneTx is CheckCode with cc.Decide: reservation, comparison
// and settling in one transaction. The reservation is still the first
// statement and the comparison only runs when it was granted; the writer
// runs one transaction at a time (SQLite's one writer, PostgreSQL's write
// lock: Dialect.BeginWrite), so the count each reservation reads includes
// every attempt before it, settled or not.
func checkCodeInOneTx(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck) error {
	now := c.Now()
	var wrong bool
	var failures int
	var status string
	err := st.InGroupTx(ctx, func(q store.Queries) error {
		wrong = false
		n, err := reserveAttemptTx(ctx, q, cc)
		if err != nil {
			return err
		}
		accept, err := cc.Decide(ctx, q)
		if err != nil {
			return err
		}
		if accept != nil {
			return passAttemptTx(ctx, q, cc, accept)
		}
		wrong = true
		failures, status, err = failAttemptTx(ctx, q, cc, n, now)
		return err
	})
	switch {
	case errors.Is(err, errRefused):
		return ErrLockedOut
	case errors.Is(err, ErrWrongCode):
		// The code matched but was spent by a concurrent check first: the
		// rollback gave the attempt back and undid the Accept's writes, so
		// count it as the wrong code it is, in a transaction of its own.
		return recordWrongCodeAgain(ctx, st, c, cc)
	case err != nil:
		return err
	case !wrong:
		return nil // a right code
	}
	return wrongCodeResult(failures, status)
}

// reserveAttemptTx reserves an attempt of cc in q, the first statement of
// the one-transaction check: errRefused when the limit is reached or the
// user is locked out.
func reserveAttemptTx(ctx context.Context, q store.Queries, cc CodeCheck) (int, error) {
	n, ok, err := q.ReserveUserAttempt(ctx, cc.User.ID, MaxFailures)
	if err != nil {
		return 0, fmt.Errorf("verify: reserve attempt: %w", err)
	}
	if !ok {
		return 0, errRefused
	}
	return n, nil
}

// passAttemptTx settles cc's reserved attempt as a right code in q: the
// count is cleared and accept's writes made, unless the user was locked
// out meanwhile (ErrLockedOut).
func passAttemptTx(ctx context.Context, q store.Queries, cc CodeCheck, accept Accept) error {
	cleared, err := q.PassUserAttempt(ctx, cc.User.ID)
	if err != nil {
		return err
	}
	if !cleared {
		return ErrLockedOut
	}
	return accept(ctx, q)
}

// recordWrongCodeAgain reserves an attempt and settles it as a wrong code,
// for a right code that turned out to be a replay.
func recordWrongCodeAgain(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck) error {
	now := c.Now()
	var failures int
	var status string
	err := st.InGroupTx(ctx, func(q store.Queries) error {
		n, err := reserveAttemptTx(ctx, q, cc)
		if err != nil {
			return err
		}
		failures, status, err = failAttemptTx(ctx, q, cc, n, now)
		return err
	})
	if errors.Is(err, errRefused) {
		return ErrLockedOut
	}
	if err != nil {
		return err
	}
	return wrongCodeResult(failures, status)
}

// wrongCodeResult is CheckCode's answer to a wrong code that left the count
// at failures and the user in status.
func wrongCodeResult(failures int, status string) error {
	if status == store.StatusLockedOut {
		return ErrLockedOut
	}
	return &WrongCodeError{Remaining: max(MaxFailures-failures, 0)}
}

// recordWrongCode settles attempt n of cc as a wrong code and writes its
// audit records in a transaction of its own (so that they stick even though
// the caller's attempt failed).
func recordWrongCode(ctx context.Context, st LockoutStore, c clock.Clock, cc CodeCheck, n int) error {
	now := c.Now()
	var failures int
	var status string
	err := st.InGroupTx(ctx, func(q store.Queries) error {
		var err error
		failures, status, err = failAttemptTx(ctx, q, cc, n, now)
		return err
	})
	if err != nil {
		return err
	}
	return wrongCodeResult(failures, status)
}

// failAttemptTx settles reserved attempt n of cc as a wrong code in q, with
// its audit record, and the lockout's when it locked the user out. It
// returns the count and the user's status after it.
func failAttemptTx(ctx context.Context, q store.Queries, cc CodeCheck, n int, now time.Time) (int, string, error) {
	failures, status, lockedNow, err := q.FailUserAttempt(ctx, cc.User.ID, MaxFailures, now)
	if err != nil {
		return 0, "", fmt.Errorf("verify: record failure: %w", err)
	}
	if err := q.InsertAudit(ctx, audit.Entry(now, cc.Who, cc.WrongAction, audit.TargetUser, cc.User.Username,
		map[string]any{"failures": n})); err != nil {
		return 0, "", err
	}
	if lockedNow {
		if err := q.InsertAudit(ctx, audit.Entry(now, cc.Who, audit.UserLockedOut, audit.TargetUser, cc.User.Username,
			map[string]any{"failures": failures})); err != nil {
			return 0, "", err
		}
	}
	return failures, status, nil
}
