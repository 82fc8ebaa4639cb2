package sqlstore_test

import (
	"context"
	"errors"
	"sync"
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

// A write outside a transaction waits for the write lock that another
// process's transaction holds, as every write does on SQLite, and a wait
// bounded by store.WithLockWait ends with ErrBusy having written nothing:
// without it a lone write on PostgreSQL would land in the middle of the
// other process's read-decide-write transaction, and a login under a
// write-locked database would not answer in time.
func TestLoneWriteWaitsForAnotherProcessWriteLock(t *testing.T) {
	ctx := context.Background()
	open := newDatabase(t)
	holder, other := open(), open()
	m := store.Message{IntentKey: "k", Channel: store.ChannelEmail, Recipient: "r", BodyText: "x", NextAttemptAt: t0, CreatedAt: t0}
	if _, err := other.EnqueueMessage(ctx, &m); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Minute)
	if claimed, err := other.ClaimMessages(ctx, "", []string{store.ChannelEmail}, t0, until, 1); err != nil || len(claimed) != 1 {
		t.Fatal(claimed, err)
	}
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- holder.InTx(ctx, func(store.Queries) error {
			close(held)
			<-release
			return nil
		})
	}()
	var once sync.Once
	unlock := func() {
		once.Do(func() {
			close(release)
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	// Registered after the databases' Close, so it runs before them.
	t.Cleanup(unlock)
	<-held
	_, err := other.TakeLease(store.WithLockWait(ctx, 300*time.Millisecond), "sweep", "B", t0, t0.Add(time.Minute))
	if !errors.Is(err, store.ErrBusy) {
		t.Errorf("lone write under another process's write lock: %v, want ErrBusy", err)
	}
	// The record of a delivery is the exception on PostgreSQL: its claim
	// decides it alone, and it must land as soon as the relay accepted the
	// message. On SQLite every write waits for the one lock.
	recorded, err := other.MarkMessageSent(store.WithLockWait(store.WithDeliveryRecord(ctx), 300*time.Millisecond), m.ID, until, t0, "", "")
	if onPostgres && (err != nil || !recorded) {
		t.Errorf("delivery record under another process's write lock: %v, %v; want recorded", recorded, err)
	}
	if !onPostgres && !errors.Is(err, store.ErrBusy) {
		t.Errorf("delivery record under another process's write lock on SQLite: %v, want ErrBusy", err)
	}
	// An unbounded write waits for the transaction's end, then lands.
	taken := make(chan error, 1)
	go func() {
		ok, err := other.TakeLease(ctx, "sweep", "C", t0, t0.Add(time.Minute))
		if err == nil && !ok {
			err = errors.New("lease refused")
		}
		taken <- err
	}()
	select {
	case err := <-taken:
		t.Fatalf("lone write went through the held write lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	if err := <-taken; err != nil {
		t.Fatalf("lone write after the lock: %v", err)
	}
	// B's refused write left nothing behind: C took the free lease.
	if ok, err := holder.TakeLease(ctx, "sweep", "B", t0, t0.Add(time.Minute)); err != nil || ok {
		t.Errorf("B takes C's lease: %v, %v; want refused", ok, err)
	}
}
