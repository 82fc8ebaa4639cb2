package verify_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit/testdb"
	"enrollportal/internal/verify"
)

const phoneSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// openPlain stands in for unsealing: the test stores no real sealed value.
func openPlain(store.Phone) (string, error) { return phoneSecret, nil }

func codeAt(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(phoneSecret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setup(t *testing.T, withPhone bool) (*sqlite.DB, *clock.Fake, store.User) {
	t.Helper()
	ctx := context.Background()
	db := testdb.OpenNew(t)
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC))
	now := c.Now()
	u := store.User{Key: "DUPAT", Username: "pat", Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if withPhone {
		ph := store.Phone{Key: "DPPAT", Type: store.PhoneMobile, Platform: store.PlatformIOS, TOTPSecret: []byte("sealed"),
			Activated: true, ActivatedAt: &now, CreatedAt: now}
		if err := db.CreatePhone(ctx, &ph); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachPhone(ctx, u.ID, ph.ID); err != nil {
			t.Fatal(err)
		}
	}
	return db, c, u
}

var who = audit.Who{Type: audit.ActorApplication, Name: "test"}

func TestCheckPasscodeSpendsTheCodeAndResetsFailures(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	wrong := "000000"
	if wrong == codeAt(t, c.Now()) {
		wrong = "111111"
	}
	_, err := verify.CheckPasscode(ctx, db, c, u, wrong, funcSecrets(openPlain), who, audit.AuthPasscodeFailed)
	var wce *verify.WrongCodeError
	if !errors.As(err, &wce) || wce.Remaining != verify.MaxFailures-1 {
		t.Fatalf("wrong code: %v", err)
	}
	u, _ = db.UserByID(ctx, u.ID)
	ph, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), funcSecrets(openPlain), who, audit.AuthPasscodeFailed)
	if err != nil || ph.Device != "DPPAT" {
		t.Fatalf("right code: %+v, %v", ph, err)
	}
	if u, _ = db.UserByID(ctx, u.ID); u.FailedAttempts != 0 {
		t.Errorf("failures after a right code = %d", u.FailedAttempts)
	}
	// The same code again is a replay, and counts as wrong.
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), funcSecrets(openPlain), who, audit.AuthPasscodeFailed); !errors.As(err, &wce) {
		t.Errorf("replayed code: %v", err)
	}
	// The next step's code works (one step of clock drift either side).
	u, _ = db.UserByID(ctx, u.ID)
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now().Add(30*time.Second)), funcSecrets(openPlain), who, audit.AuthPasscodeFailed); err != nil {
		t.Errorf("next step's code: %v", err)
	}
}

func TestCheckPasscodeLocksOutAndRefusesWithoutDevice(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	for i := 0; i < verify.MaxFailures; i++ {
		u, _ = db.UserByID(ctx, u.ID)
		_, err := verify.CheckPasscode(ctx, db, c, u, "99999", funcSecrets(openPlain), who, audit.AuthPasscodeFailed)
		if i == verify.MaxFailures-1 && !errors.Is(err, verify.ErrLockedOut) {
			t.Fatalf("failure %d: %v, want ErrLockedOut", i+1, err)
		}
	}
	u, _ = db.UserByID(ctx, u.ID)
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), funcSecrets(openPlain), who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrLockedOut) {
		t.Errorf("locked out user with the right code: %v", err)
	}

	db2, c2, u2 := setup(t, false)
	if _, err := verify.CheckPasscode(ctx, db2, c2, u2, "123456", funcSecrets(openPlain), who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrNoPasscodeDevice) {
		t.Errorf("user without a device: %v", err)
	}
	if u2, _ = db2.UserByID(ctx, u2.ID); u2.FailedAttempts != 0 {
		t.Error("a user without a device was counted a failure")
	}
}

// TestConcurrentWrongPasscodesCheckAtMostTheLimit fires 300 wrong passcodes
// for one user at once. Every look at a code opens the phone's secret, so
// counting the opens counts the checks: the lockout must stop them at
// MaxFailures, and the right code afterwards must be refused.
func TestConcurrentWrongPasscodesCheckAtMostTheLimit(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	var checks atomic.Int32
	counting := func(ph store.Phone) (string, error) {
		checks.Add(1)
		return openPlain(ph)
	}
	wrong := "000000"
	if wrong == codeAt(t, c.Now()) || wrong == codeAt(t, c.Now().Add(-30*time.Second)) || wrong == codeAt(t, c.Now().Add(30*time.Second)) {
		wrong = "111111"
	}
	const guesses = 300
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			_, errs[i] = verify.CheckPasscode(ctx, db, c, u, wrong, funcSecrets(counting), who, audit.AuthPasscodeFailed)
		})
	}
	wg.Wait()
	var wrongs, locked int
	for _, err := range errs {
		var wce *verify.WrongCodeError
		switch {
		case errors.As(err, &wce):
			wrongs++
		case errors.Is(err, verify.ErrLockedOut):
			locked++
		default:
			t.Fatalf("guess answered %v", err)
		}
	}
	t.Logf("%d wrong passcodes at once: %d checked, %d told wrong, %d told locked out", guesses, checks.Load(), wrongs, locked)
	if n := checks.Load(); n > verify.MaxFailures {
		t.Errorf("%d codes checked, want at most %d", n, verify.MaxFailures)
	}
	if u, _ = db.UserByID(ctx, u.ID); u.Status != store.StatusLockedOut || u.FailedAttempts != verify.MaxFailures {
		t.Errorf("after the flood: status %s, %d failures", u.Status, u.FailedAttempts)
	}
	entries, err := db.AuditForTarget(ctx, audit.TargetUser, u.Username, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var failed, lockouts int
	for _, e := range entries {
		switch e.Action {
		case audit.AuthPasscodeFailed:
			failed++
		case audit.UserLockedOut:
			lockouts++
		}
	}
	if failed != int(checks.Load()) || lockouts != 1 {
		t.Errorf("audit: %d failed passcodes for %d checks, %d lockouts", failed, checks.Load(), lockouts)
	}
	// The right code, even by a caller that loaded the user before the
	// lockout, is refused without a look.
	before := checks.Load()
	u.Status = store.StatusActive
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), funcSecrets(counting), who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrLockedOut) {
		t.Errorf("right code after the lockout: %v", err)
	}
	if checks.Load() != before {
		t.Error("the right code was checked after the lockout")
	}
}

// TestRightCodeSettlingAfterTheLockoutIsRefused holds a right code between
// its reservation and its settling while wrong codes lock the user out: it
// must not sign in.
func TestRightCodeSettlingAfterTheLockoutIsRefused(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	holding := func(ph store.Phone) (string, error) {
		close(held)
		<-release
		return openPlain(ph)
	}
	done := make(chan error)
	go func() {
		_, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), funcSecrets(holding), who, audit.AuthPasscodeFailed)
		done <- err
	}()
	<-held
	for i := 0; i < verify.MaxFailures-1; i++ {
		if _, err := verify.CheckPasscode(ctx, db, c, u, "99999", funcSecrets(openPlain), who, audit.AuthPasscodeFailed); err == nil {
			t.Fatal("a wrong code passed")
		}
	}
	// Ten attempts are out (nine wrong, one held): the next is refused.
	if _, err := verify.CheckPasscode(ctx, db, c, u, "99999", funcSecrets(openPlain), who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrLockedOut) {
		t.Fatalf("attempt past the limit: %v", err)
	}
	// The ninth wrong code settled with ten counted, so the user is out.
	if got, _ := db.UserByID(ctx, u.ID); got.Status != store.StatusLockedOut {
		t.Fatalf("status %s with ten attempts counted", got.Status)
	}
	close(release)
	if err := <-done; !errors.Is(err, verify.ErrLockedOut) {
		t.Fatalf("right code settling after the lockout: %v", err)
	}
	phones, _ := db.PhonesByUser(ctx, u.ID)
	if phones[0].LastTOTPStep != 0 {
		t.Error("the refused code was spent")
	}
}

// funcSecrets adapts an unsealing function to verify.PasscodeSecrets, with
// fixed bypass-code and SMS passcode keys.
type funcSecrets func(store.Phone) (string, error)

func (f funcSecrets) OpenPhoneSecret(p store.Phone) (string, error) { return f(p) }
func (funcSecrets) BypassCodeHash(code string) []byte {
	return verify.HashBypassCode([]byte("test bypass key"), code)
}

func (funcSecrets) SMSPasscodeHash(code string) []byte {
	return verify.HashSMSPasscode([]byte("test sms key"), code)
}

func (funcSecrets) OpenTokenSecret(t store.OATHToken) ([]byte, error) { return t.Secret, nil }
