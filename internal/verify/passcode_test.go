package verify_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
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
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
	_, err := verify.CheckPasscode(ctx, db, c, u, wrong, openPlain, who, audit.AuthPasscodeFailed)
	var wce *verify.WrongCodeError
	if !errors.As(err, &wce) || wce.Remaining != verify.MaxFailures-1 {
		t.Fatalf("wrong code: %v", err)
	}
	u, _ = db.UserByID(ctx, u.ID)
	ph, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), openPlain, who, audit.AuthPasscodeFailed)
	if err != nil || ph.Key != "DPPAT" {
		t.Fatalf("right code: %+v, %v", ph, err)
	}
	if u, _ = db.UserByID(ctx, u.ID); u.FailedAttempts != 0 {
		t.Errorf("failures after a right code = %d", u.FailedAttempts)
	}
	// The same code again is a replay, and counts as wrong.
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), openPlain, who, audit.AuthPasscodeFailed); !errors.As(err, &wce) {
		t.Errorf("replayed code: %v", err)
	}
	// The next step's code works (one step of clock drift either side).
	u, _ = db.UserByID(ctx, u.ID)
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now().Add(30*time.Second)), openPlain, who, audit.AuthPasscodeFailed); err != nil {
		t.Errorf("next step's code: %v", err)
	}
}

func TestCheckPasscodeLocksOutAndRefusesWithoutDevice(t *testing.T) {
	db, c, u := setup(t, true)
	ctx := context.Background()
	for i := 0; i < verify.MaxFailures; i++ {
		u, _ = db.UserByID(ctx, u.ID)
		_, err := verify.CheckPasscode(ctx, db, c, u, "99999", openPlain, who, audit.AuthPasscodeFailed)
		if i == verify.MaxFailures-1 && !errors.Is(err, verify.ErrLockedOut) {
			t.Fatalf("failure %d: %v, want ErrLockedOut", i+1, err)
		}
	}
	u, _ = db.UserByID(ctx, u.ID)
	if _, err := verify.CheckPasscode(ctx, db, c, u, codeAt(t, c.Now()), openPlain, who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrLockedOut) {
		t.Errorf("locked out user with the right code: %v", err)
	}

	db2, c2, u2 := setup(t, false)
	if _, err := verify.CheckPasscode(ctx, db2, c2, u2, "123456", openPlain, who, audit.AuthPasscodeFailed); !errors.Is(err, verify.ErrNoPasscodeDevice) {
		t.Errorf("user without a device: %v", err)
	}
	if u2, _ = db2.UserByID(ctx, u2.ID); u2.FailedAttempts != 0 {
		t.Error("a user without a device was counted a failure")
	}
}
