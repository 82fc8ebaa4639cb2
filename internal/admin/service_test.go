package admin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit/testdb"
)

func newService(t *testing.T) (*admin.Service, *sqlite.DB, *clock.Fake) {
	t.Helper()
	db := testdb.OpenNew(t)
	box, err := secret.NewBox(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	return admin.New(db, c, box), db, c
}

func code(t *testing.T, sec string, at time.Time) string {
	t.Helper()
	s, err := totp.GenerateCodeCustom(sec, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSlowDelayGrowsAndIsCapped(t *testing.T) {
	want := map[int]time.Duration{0: 0, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 256 * time.Second,
		10: admin.MaxDelay, 11: admin.MaxDelay, 1000: admin.MaxDelay}
	for n, d := range want {
		if got := admin.SlowDelay(n); got != d {
			t.Errorf("SlowDelay(%d) = %v, want %v", n, got, d)
		}
	}
}

// Wrong passwords slow the account down for the addresses that sent them;
// the owner, from an address of their own, signs in whatever the guesser
// does. (The lockout this replaces kept everyone out for 15 minutes.)
func TestWrongPasswordsSlowTheGuesserNotTheOwner(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	a, err := s.Create(ctx, admin.NewAdmin{Email: "A@Example.org", Role: admin.RoleOwner, Password: "right password!"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	const guesser, owner = "203.0.113.9", "198.51.100.20"
	for i := 1; i <= 12; i++ {
		if _, err := s.SignIn(ctx, "a@example.org", "wrong password", guesser); !errors.Is(err, admin.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
		got, err := db.AdminByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.Now().Add(admin.SlowDelay(i)); got.FailedAttempts != i || got.SlowUntil == nil || !got.SlowUntil.Equal(want) {
			t.Fatalf("after %d failures: %d recorded, slow until %v, want %v", i, got.FailedAttempts, got.SlowUntil, want)
		}
		// The guesser's next try, even with the right password, is refused
		// with the same answer until the delay has passed, and not counted.
		if _, err := s.SignIn(ctx, "a@example.org", "right password!", guesser); !errors.Is(err, admin.ErrBadCredentials) {
			t.Fatalf("the guessing address got in %v after failure %d: %v", admin.SlowDelay(i), i, err)
		}
		if got, _ := db.AdminByID(ctx, a.ID); got.FailedAttempts != i {
			t.Fatalf("a refused try was counted: %d", got.FailedAttempts)
		}
		// The owner is not held up.
		if _, err := s.SignIn(ctx, "a@example.org", "right password!", owner); err != nil {
			t.Fatalf("owner after %d wrong guesses elsewhere: %v", i, err)
		}
		c.Advance(admin.SlowDelay(i))
	}
	if admin.SlowDelay(12) != admin.MaxDelay {
		t.Fatalf("12 failures wait %v, not the cap", admin.SlowDelay(12))
	}
	if _, err := s.SignIn(ctx, "a@example.org", "right password!", guesser); err != nil {
		t.Fatalf("after waiting the delay: %v", err)
	}
	// Failures are forgotten an hour after the last one.
	c.Advance(admin.ForgetFailuresAfter)
	s.SignIn(ctx, "a@example.org", "wrong password", guesser)
	if got, _ := db.AdminByID(ctx, a.ID); got.FailedAttempts != 1 || !got.SlowUntil.Equal(c.Now().Add(admin.FirstDelay)) {
		t.Fatalf("old failures still count: %d, slow until %v", got.FailedAttempts, got.SlowUntil)
	}
	if _, err := s.SignIn(ctx, "nobody@example.org", "right password!", owner); !errors.Is(err, admin.ErrBadCredentials) {
		t.Fatalf("unknown email: %v", err)
	}
	e, err := db.AuditForTarget(ctx, audit.TargetAdmin, "a@example.org", 100)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, x := range e {
		if x.Action == audit.AdminSignInFailed {
			failed++
		}
	}
	if failed != 12+12+1 {
		t.Fatalf("%d sign_in_failed records, want 25 (each wrong and each refused try)", failed)
	}
}

func TestTOTPIsSingleUseAndChecked(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	a, _ := s.Create(ctx, admin.NewAdmin{Email: "b@example.org", Role: admin.RoleReadOnly, Password: "right password!"}, audit.CLI())
	sec := admin.NewTOTPSecret()
	if err := s.ConfirmTOTP(ctx, a, sec, "123", "ip"); !errors.Is(err, admin.ErrBadCode) {
		t.Fatalf("bad confirm: %v", err)
	}
	c.Advance(admin.FirstDelay) // the wrong code slowed the account down
	if err := s.ConfirmTOTP(ctx, a, sec, code(t, sec, c.Now()), "ip"); err != nil {
		t.Fatal(err)
	}
	a, _ = db.AdminByID(ctx, a.ID)
	if a.TOTPSecret == nil || string(a.TOTPSecret) == sec {
		t.Fatal("secret not stored sealed")
	}
	// The code that proved the set-up cannot sign in.
	if err := s.VerifyTOTP(ctx, a, code(t, sec, c.Now()), "ip"); !errors.Is(err, admin.ErrBadCode) {
		t.Fatalf("set-up code reused: %v", err)
	}
	c.Advance(30 * time.Second)
	a, _ = db.AdminByID(ctx, a.ID)
	good := code(t, sec, c.Now())
	if err := s.VerifyTOTP(ctx, a, good, "ip"); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	// A stale copy of the admin (a concurrent request) cannot replay it either.
	if err := s.VerifyTOTP(ctx, a, good, "ip"); !errors.Is(err, admin.ErrBadCode) {
		t.Fatalf("replay: %v", err)
	}
}

func TestSetupLinkWorksOnceAndExpires(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	token, exp, err := s.IssueSetupLink(ctx, audit.CLI())
	if err != nil || !exp.Equal(c.Now().Add(admin.SetupLinkTTL)) {
		t.Fatalf("%v %v", exp, err)
	}
	if _, err := s.CompleteSetup(ctx, token, admin.NewAdmin{Email: "o@example.org", Password: "short"}, "ip"); !errors.Is(err, admin.ErrPasswordTooShort) {
		t.Fatalf("short password: %v", err)
	}
	a, err := s.CompleteSetup(ctx, token, admin.NewAdmin{Email: "o@example.org", Role: admin.RoleReadOnly, Password: "right password!"}, "ip")
	if err != nil || a.Role != admin.RoleOwner {
		t.Fatalf("setup: %+v %v (the link's role wins)", a, err)
	}
	if _, err := s.CompleteSetup(ctx, token, admin.NewAdmin{Email: "p@example.org", Password: "right password!"}, "ip"); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("second use: %v", err)
	}
	if n, _ := db.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins", n)
	}

	s2, _, c2 := newService(t)
	token2, _, err := s2.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	c2.Advance(admin.SetupLinkTTL)
	if _, err := s2.OpenSetupLink(ctx, token2); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("expired: %v", err)
	}
}

// Two set-ups of one admin's second factor racing: exactly one is stored,
// the others are told, and the stored secret is the winner's.
func TestConcurrentTOTPSetUpsStoreOne(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	a, err := s.Create(ctx, admin.NewAdmin{Email: "race@example.org", Role: admin.RoleReadOnly, Password: "right password!"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	secrets := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		secrets[i] = admin.NewTOTPSecret()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.ConfirmTOTP(ctx, a, secrets[i], code(t, secrets[i], c.Now()), "ip")
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("set-ups %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, admin.ErrTOTPTaken):
			t.Fatalf("set-up %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no set-up succeeded")
	}
	got, err := db.AdminByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(30 * time.Second)
	if err := s.VerifyTOTP(ctx, got, code(t, secrets[won], c.Now()), "ip"); err != nil {
		t.Fatalf("the winner's app does not sign in: %v", err)
	}
	e, err := db.AuditForTarget(ctx, audit.TargetAdmin, a.Email, 50)
	if err != nil {
		t.Fatal(err)
	}
	setUps := 0
	for _, x := range e {
		if x.Action == audit.AdminTOTPSetUp {
			setUps++
		}
	}
	if setUps != 1 {
		t.Fatalf("%d totp_set_up records, want 1", setUps)
	}
}

// At most one setup link is live: a new one ends the older, creating any
// admin ends them all, and none creates an owner once an admin exists.
func TestOnlyTheNewestSetupLinkWorksUntilAnAdminExists(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	first, _, err := s.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := s.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenSetupLink(ctx, first); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("the older link still opens: %v", err)
	}
	if _, err := s.CompleteSetup(ctx, first, admin.NewAdmin{Email: "old@example.org", Password: "right password!"}, "ip"); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("the older link created an admin: %v", err)
	}
	if _, err := s.OpenSetupLink(ctx, second); err != nil {
		t.Fatalf("the newest link: %v", err)
	}
	// The first owner comes from elsewhere (portal admin add): the live link ends.
	if _, err := s.Create(ctx, admin.NewAdmin{Email: "o@example.org", Role: admin.RoleOwner, Password: "right password!"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteSetup(ctx, second, admin.NewAdmin{Email: "p@example.org", Password: "right password!"}, "ip"); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("a setup link created a second owner: %v", err)
	}
	if _, _, err := s.IssueSetupLink(ctx, audit.CLI()); !errors.Is(err, admin.ErrAdminsExist) {
		t.Fatalf("a setup link was issued with an admin present: %v", err)
	}
	if n, _ := db.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins, want 1", n)
	}
}

// A link still live when an admin is created another way cannot create a
// second one, even when the row was left pending (the store is what the
// transaction checks, not only the link).
func TestSetupLinkRefusedOnceAnAdminExists(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	token, _, err := s.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	a := store.Admin{Key: "DEDIRECT", Email: "direct@example.org", Role: admin.RoleOwner, PasswordHash: admin.HashPassword("right password!"), CreatedAt: c.Now()}
	if err := db.CreateAdmin(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteSetup(ctx, token, admin.NewAdmin{Email: "p@example.org", Password: "right password!"}, "ip"); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("setup with an admin present: %v", err)
	}
}

// Signing out, a role change, locking and deleting end the admin's sessions
// at once; unlocking needs a new sign-in.
func TestSessionsEndOnSignOutRoleChangeLockAndDelete(t *testing.T) {
	s, db, _ := newService(t)
	ctx := context.Background()
	owner, err := s.Create(ctx, admin.NewAdmin{Email: "owner@example.org", Role: admin.RoleOwner, Password: "right password!"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Create(ctx, admin.NewAdmin{Email: "other@example.org", Role: admin.RoleAdministrator, Password: "right password!"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	open := func(a store.Admin) int64 {
		t.Helper()
		got, err := s.Session(ctx, a.ID, a.SessionGen)
		if err != nil {
			t.Fatalf("fresh session of %s: %v", a.Email, err)
		}
		return got.SessionGen
	}
	ended := func(what string, id, gen int64) {
		t.Helper()
		if _, err := s.Session(ctx, id, gen); !errors.Is(err, admin.ErrSessionEnded) {
			t.Fatalf("session after %s: %v", what, err)
		}
	}
	gen := open(other)
	if err := s.SignOut(ctx, other, "ip"); err != nil {
		t.Fatal(err)
	}
	ended("sign-out", other.ID, gen)

	other = reload(t, db, other)
	gen = open(other)
	if err := s.ChangeRole(ctx, owner, other.Key, admin.RoleReadOnly, "ip"); err != nil {
		t.Fatal(err)
	}
	ended("role change", other.ID, gen)

	other = reload(t, db, other)
	gen = open(other)
	if err := s.Lock(ctx, owner, other.Key, "ip"); err != nil {
		t.Fatal(err)
	}
	ended("lock", other.ID, gen)
	if _, err := s.Session(ctx, other.ID, reload(t, db, other).SessionGen); !errors.Is(err, admin.ErrSessionEnded) {
		t.Fatalf("a locked admin's newest session generation counts: %v", err)
	}
	if _, err := s.SignIn(ctx, other.Email, "right password!", "ip2"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Fatalf("a locked admin signed in: %v", err)
	}
	if err := s.Unlock(ctx, owner, other.Key, "ip"); err != nil {
		t.Fatal(err)
	}
	ended("unlock (the old session stays ended)", other.ID, gen)
	if _, err := s.SignIn(ctx, other.Email, "right password!", "ip2"); err != nil {
		t.Fatalf("unlocked admin: %v", err)
	}

	other = reload(t, db, other)
	gen = open(other)
	if err := s.Delete(ctx, owner, other.Key, "ip"); err != nil {
		t.Fatal(err)
	}
	ended("delete", other.ID, gen)

	// The last owner who can sign in is not locked, and nobody locks
	// themselves.
	second, err := s.Create(ctx, admin.NewAdmin{Email: "second@example.org", Role: admin.RoleOwner, Password: "right password!"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, owner, owner.Key, "ip"); !errors.Is(err, admin.ErrSelf) {
		t.Fatalf("self lock: %v", err)
	}
	if err := s.Lock(ctx, owner, second.Key, "ip"); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, reload(t, db, second), owner.Key, "ip"); !errors.Is(err, admin.ErrLastOwner) {
		t.Fatalf("locking the last owner who can sign in: %v", err)
	}
	if err := s.ChangeRole(ctx, reload(t, db, second), owner.Key, admin.RoleReadOnly, "ip"); !errors.Is(err, admin.ErrLastOwner) {
		t.Fatalf("demoting the last owner who can sign in: %v", err)
	}
}

func reload(t *testing.T, db *sqlite.DB, a store.Admin) store.Admin {
	t.Helper()
	got, err := db.AdminByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
