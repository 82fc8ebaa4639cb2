package admin_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store/sqlite"
)

func newService(t *testing.T) (*admin.Service, *sqlite.DB, *clock.Fake) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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

func TestSignInLocksAfterFailuresAndUnlocksLater(t *testing.T) {
	s, db, c := newService(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, admin.NewAdmin{Email: "A@Example.org", Role: admin.RoleOwner, Password: "right password!"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, "a@example.org", "right password!", "ip"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for i := 0; i < admin.MaxFailures; i++ {
		if _, err := s.SignIn(ctx, "a@example.org", "wrong password", "ip"); !errors.Is(err, admin.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if _, err := s.SignIn(ctx, "a@example.org", "right password!", "ip"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Fatalf("locked account let the right password in: %v", err)
	}
	c.Advance(admin.LockFor - time.Second)
	if _, err := s.SignIn(ctx, "a@example.org", "right password!", "ip"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Fatal("lock ended early")
	}
	c.Advance(time.Second)
	if _, err := s.SignIn(ctx, "A@EXAMPLE.ORG ", "right password!", "ip"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if _, err := s.SignIn(ctx, "nobody@example.org", "right password!", "ip"); !errors.Is(err, admin.ErrBadCredentials) {
		t.Fatalf("unknown email: %v", err)
	}
	e, _ := db.AuditForTarget(ctx, audit.TargetAdmin, "a@example.org", 20)
	locked := 0
	for _, x := range e {
		if x.Action == audit.AdminLockedOut {
			locked++
		}
	}
	if locked != 1 {
		t.Fatalf("%d lockout records", locked)
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
	token2, _, _ := s.IssueSetupLink(ctx, audit.CLI())
	c.Advance(admin.SetupLinkTTL)
	if _, err := s.OpenSetupLink(ctx, token2); !errors.Is(err, admin.ErrSetupLinkGone) {
		t.Fatalf("expired: %v", err)
	}
	if n, _ := db.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins", n)
	}
}
