package users_test

import (
	"context"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit/testdb"
	"enrollportal/internal/users"
)

// TestAdminWritesResetFailuresUnlessLockedOut: an admin's edit clears the
// count of wrong codes, except of a user who stays locked out; an unlock
// clears it. The rule is users.ResetsFailures, no longer hidden in SQL.
func TestAdminWritesResetFailuresUnlessLockedOut(t *testing.T) {
	ctx := context.Background()
	db := testdb.OpenNew(t)
	svc := &users.Service{Store: db, Clock: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	who := audit.Admin("admin@example.org", "192.0.2.1")

	fail := func(u store.User, n int) store.User {
		t.Helper()
		for range n {
			if _, ok, err := db.ReserveUserAttempt(ctx, u.ID, 10); err != nil || !ok {
				t.Fatalf("reserve attempt: %v %v", ok, err)
			}
		}
		got, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FailedAttempts != n {
			t.Fatalf("failed attempts %d, want %d", got.FailedAttempts, n)
		}
		return got
	}
	reload := func(u store.User) store.User {
		t.Helper()
		got, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	ann, err := svc.Create(ctx, users.NewUser{Username: "ann"}, who)
	if err != nil {
		t.Fatal(err)
	}
	ann = fail(ann, 3)
	if err := svc.Edit(ctx, ann, users.Form{Notes: "new phone", Status: store.StatusActive}, who); err != nil {
		t.Fatal(err)
	}
	if got := reload(ann); got.FailedAttempts != 0 || got.Notes != "new phone" {
		t.Fatalf("after an edit of an active user: failures %d, notes %q", got.FailedAttempts, got.Notes)
	}

	bob, err := svc.Create(ctx, users.NewUser{Username: "bob"}, who)
	if err != nil {
		t.Fatal(err)
	}
	bob = fail(bob, 4)
	if err := db.SetUserStatus(ctx, bob.ID, store.StatusLockedOut, users.ResetsFailures(store.StatusLockedOut), svc.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	bob = reload(bob)
	if err := svc.Edit(ctx, bob, users.Form{Notes: "called", Status: store.StatusLockedOut}, who); err != nil {
		t.Fatal(err)
	}
	if got := reload(bob); got.FailedAttempts != 4 || got.Status != store.StatusLockedOut {
		t.Fatalf("after an edit of a locked-out user: failures %d, status %s", got.FailedAttempts, got.Status)
	}
	if err := svc.Unlock(ctx, reload(bob), who); err != nil {
		t.Fatal(err)
	}
	if got := reload(bob); got.FailedAttempts != 0 || got.Status != store.StatusActive {
		t.Fatalf("after an unlock: failures %d, status %s", got.FailedAttempts, got.Status)
	}
}
