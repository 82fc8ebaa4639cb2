package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// The admin dashboard's figures: on PostgreSQL the enrolled users' subquery
// needs an alias, and the empty one a boolean WHERE.
func TestCountUserFiguresWithAndWithoutMethods(t *testing.T) {
	db := openDB(t)
	mustUser(t, db, "una")
	mustUser(t, db, "uli")
	for _, methods := range [][]string{{store.MethodAuthenticatorApp, store.MethodSecurityKey}, {}} {
		c, err := db.CountUserFigures(context.Background(), t0, methods)
		if err != nil || c.Total != 2 || c.Enrolled != 0 {
			t.Fatalf("methods %v: %+v %v, want 2 users and none enrolled", methods, c, err)
		}
	}
}

// A lease has one holder until it ends, is renewed by its holder, and is
// free once released.
func TestLeaseHasOneHolderUntilItEnds(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	take := func(holder string, now time.Time) bool {
		t.Helper()
		ok, err := db.TakeLease(ctx, "sweep", holder, now, now.Add(3*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("A", t0) || take("B", t0) || !take("A", t0.Add(time.Minute)) {
		t.Fatal("a free lease: first taker A, then B refused, then A renews")
	}
	if take("B", t0.Add(3*time.Minute)) || !take("B", t0.Add(4*time.Minute)) {
		t.Fatal("B must wait for the renewed lease's end, then get it")
	}
	if err := db.ReleaseLease(ctx, "sweep", "A"); err != nil || take("A", t0.Add(4*time.Minute)) {
		t.Fatalf("A released a lease it no longer held: %v", err)
	}
	if err := db.ReleaseLease(ctx, "sweep", "B"); err != nil || !take("A", t0.Add(4*time.Minute)) {
		t.Fatalf("a released lease is not free: %v", err)
	}
}
