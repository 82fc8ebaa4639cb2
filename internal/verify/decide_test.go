package verify_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// decideCheck is a CodeCheck with Decide that takes code as right when it
// is right, counting every look in looks; a right code's Accept spends the
// phone's step, as an enrollment's stores its phone.
func decideCheck(u store.User, right, code string, looks *atomic.Int32) verify.CodeCheck {
	return verify.CodeCheck{User: u, Who: who, WrongAction: audit.EnrollmentCodeFailed,
		Decide: func(ctx context.Context, q store.Queries) (verify.Accept, error) {
			looks.Add(1)
			if code != right {
				return nil, nil
			}
			return func(ctx context.Context, q store.Queries) error {
				phones, err := q.PhonesByUser(ctx, u.ID)
				if err != nil {
					return err
				}
				if _, err := q.AdvanceTOTPStep(ctx, phones[0].ID, 1); err != nil {
					return err
				}
				return nil
			}, nil
		}}
}

// TestDecideChecksAndSettlesInOneTransaction: a check with Decide is one
// write transaction, right or wrong, where Match takes two.
func TestDecideChecksAndSettlesInOneTransaction(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	var looks atomic.Int32
	before := db.WriteTransactions()
	err := verify.CheckCode(ctx, db, c, decideCheck(u, "123456", "000000", &looks))
	var wce *verify.WrongCodeError
	if !errors.As(err, &wce) || wce.Remaining != verify.MaxFailures-1 {
		t.Fatalf("wrong code: %v", err)
	}
	if n := db.WriteTransactions() - before; n != 1 {
		t.Errorf("a wrong code took %d write transactions, want 1", n)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.FailedAttempts != 1 {
		t.Errorf("failures after a wrong code = %d, want 1", got.FailedAttempts)
	}
	entries, _ := db.AuditForTarget(ctx, audit.TargetUser, u.Username, 10)
	if len(entries) != 1 || entries[0].Action != audit.EnrollmentCodeFailed {
		t.Errorf("audit after a wrong code: %+v", entries)
	}

	before = db.WriteTransactions()
	if err := verify.CheckCode(ctx, db, c, decideCheck(u, "123456", "123456", &looks)); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if n := db.WriteTransactions() - before; n != 1 {
		t.Errorf("a right code took %d write transactions, want 1", n)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.FailedAttempts != 0 {
		t.Errorf("failures after a right code = %d, want 0", got.FailedAttempts)
	}
	if phones, _ := db.PhonesByUser(ctx, u.ID); phones[0].LastTOTPStep != 1 {
		t.Error("the right code's Accept did not run")
	}

	// An error of Decide gives the attempt back and writes nothing.
	boom := errors.New("cannot compare")
	err = verify.CheckCode(ctx, db, c, verify.CodeCheck{User: u, Who: who, WrongAction: audit.EnrollmentCodeFailed,
		Decide: func(context.Context, store.Queries) (verify.Accept, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Errorf("Decide's error: %v", err)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.FailedAttempts != 0 {
		t.Errorf("failures after an unchecked code = %d, want 0", got.FailedAttempts)
	}

	// A right code spent meanwhile (ErrWrongCode from its Accept) counts as
	// a wrong one, and its Accept's writes are undone.
	err = verify.CheckCode(ctx, db, c, verify.CodeCheck{User: u, Who: who, WrongAction: audit.EnrollmentCodeFailed,
		Decide: func(context.Context, store.Queries) (verify.Accept, error) {
			return func(ctx context.Context, q store.Queries) error {
				phones, _ := q.PhonesByUser(ctx, u.ID)
				if _, err := q.AdvanceTOTPStep(ctx, phones[0].ID, 5); err != nil {
					return err
				}
				return verify.ErrWrongCode
			}, nil
		}})
	if !errors.As(err, &wce) {
		t.Errorf("replayed code: %v, want a wrong code", err)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.FailedAttempts != 1 {
		t.Errorf("failures after a replayed code = %d, want 1", got.FailedAttempts)
	}
	if phones, _ := db.PhonesByUser(ctx, u.ID); phones[0].LastTOTPStep != 1 {
		t.Error("the replayed code's writes were kept")
	}
}

// TestDecideConcurrentWrongCodesCheckAtMostTheLimit is
// TestConcurrentWrongPasscodesCheckAtMostTheLimit for a check with Decide:
// 300 wrong codes at once look at most MaxFailures times, the user ends
// locked out with one lockout record, and the right code afterwards is
// refused without a look.
func TestDecideConcurrentWrongCodesCheckAtMostTheLimit(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	var looks atomic.Int32
	const guesses = 300
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() { errs[i] = verify.CheckCode(ctx, db, c, decideCheck(u, "123456", "000000", &looks)) })
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.As(err, new(*verify.WrongCodeError)) && !errors.Is(err, verify.ErrLockedOut) {
			t.Fatalf("guess answered %v", err)
		}
	}
	t.Logf("%d wrong codes at once: %d looked at", guesses, looks.Load())
	if n := looks.Load(); n > verify.MaxFailures {
		t.Errorf("%d codes looked at, want at most %d", n, verify.MaxFailures)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.Status != store.StatusLockedOut || got.FailedAttempts != verify.MaxFailures {
		t.Errorf("after the flood: status %s, %d failures", got.Status, got.FailedAttempts)
	}
	entries, err := db.AuditForTarget(ctx, audit.TargetUser, u.Username, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var failed, lockouts int
	for _, e := range entries {
		switch e.Action {
		case audit.EnrollmentCodeFailed:
			failed++
		case audit.UserLockedOut:
			lockouts++
		}
	}
	if failed != int(looks.Load()) || lockouts != 1 {
		t.Errorf("audit: %d failed codes for %d looks, %d lockouts", failed, looks.Load(), lockouts)
	}
	before := looks.Load()
	if err := verify.CheckCode(ctx, db, c, decideCheck(u, "123456", "123456", &looks)); !errors.Is(err, verify.ErrLockedOut) {
		t.Errorf("right code after the lockout: %v", err)
	}
	if looks.Load() != before {
		t.Error("the right code was looked at after the lockout")
	}
	if phones, _ := db.PhonesByUser(ctx, u.ID); phones[0].LastTOTPStep != 0 {
		t.Error("the refused code was spent")
	}
}
