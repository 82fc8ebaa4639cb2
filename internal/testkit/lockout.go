package testkit

import (
	"context"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// WantLockoutHeld reads the audit of username after a flood of as many
// wrong codes as guesses, sent at once: every code checked and found wrong
// leaves a
// wrongAction record, so their number is the number of checks, which it
// returns. It fails the test unless at most verify.MaxFailures were
// checked, the lockout was audited once, nobody signed in, and the user is
// locked out.
func WantLockoutHeld(t testing.TB, p *Portal, username, wrongAction string, guesses int) int {
	t.Helper()
	ctx := context.Background()
	entries, err := p.Store.AuditForTarget(ctx, audit.TargetUser, username, 10*guesses)
	if err != nil {
		t.Fatal(err)
	}
	var checked, lockouts int
	for _, e := range entries {
		switch e.Action {
		case wrongAction:
			checked++
		case audit.UserLockedOut:
			lockouts++
		case audit.AuthAllowed, audit.PromptLoginAllowed:
			t.Errorf("%s during the flood: %+v", e.Action, e)
		}
	}
	if checked > verify.MaxFailures || lockouts != 1 {
		t.Errorf("%d of %d wrong codes checked and %d lockouts; want at most %d checked and one lockout",
			checked, guesses, lockouts, verify.MaxFailures)
	}
	u, err := p.Store.UserByUsername(ctx, username)
	if err != nil || u.Status != store.StatusLockedOut {
		t.Errorf("after the flood %s is %q (%v), want locked out", username, u.Status, err)
	}
	return checked
}
