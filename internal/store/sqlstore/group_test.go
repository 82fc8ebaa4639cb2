package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// Writes queued together commit in one transaction; one that fails is
// rolled back alone, and one whose caller gave up never runs.
func TestGroupedWritesShareACommitAndFailAlone(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	inside, release, held := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		held <- db.InTx(ctx, func(store.Queries) error { close(inside); <-release; return nil })
	}()
	<-inside
	before := db.WriteTransactions()

	entry := func(target string) store.AuditEntry {
		return store.AuditEntry{At: t0, ActorType: "system", Action: "test.grouped", TargetType: "user", Target: target, Count: 1}
	}
	errRefused := errors.New("refused")
	const n = 6
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = db.InGroupTx(ctx, func(q store.Queries) error {
				if err := q.InsertAudit(ctx, entry(fmt.Sprint("u", i))); err != nil {
					return err
				}
				if i == 3 {
					return errRefused // after a write, which must not stay
				}
				return nil
			})
		}()
	}
	// One more caller gives up before the lock is free.
	gaveUp := make(chan error)
	short, cancel := context.WithCancel(ctx)
	go func() {
		gaveUp <- db.InGroupTx(short, func(q store.Queries) error { return q.InsertAudit(ctx, entry("late")) })
	}()
	for db.WaitingGroupWrites() < n+1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a caller that gave up got %v, want ErrBusy", err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range results {
		if want := error(nil); i == 3 {
			if !errors.Is(err, errRefused) {
				t.Errorf("write %d: %v, want its own error", i, err)
			}
		} else if err != want {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if got := db.WriteTransactions() - before; got != 2 {
		t.Errorf("%d transactions for the held one and %d grouped writes, want 2", got, n)
	}
	for i, target := range []string{"u0", "u1", "u2", "u3", "u4", "u5", "late"} {
		got, err := db.AuditForTarget(ctx, "user", target, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := i != 3 && target != "late"; (len(got) == 1) != want {
			t.Errorf("%s: %d records, want written=%v", target, len(got), want)
		}
	}
}

// GroupWritesWaiting tells a long write (a bulk step) that login writes
// queue behind it, and stops saying so once they are done.
func TestGroupWritesWaitingWhileALoginWriteQueues(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if db.GroupWritesWaiting() {
		t.Fatal("waiting writes on an idle database")
	}
	queued := make(chan error)
	err := db.InTx(ctx, func(store.Queries) error {
		go func() {
			queued <- db.InGroupTx(ctx, func(q store.Queries) error {
				return q.InsertAudit(ctx, store.AuditEntry{At: t0, ActorType: "system", Action: "test.login", TargetType: "user", Target: "u", Count: 1})
			})
		}()
		for !db.GroupWritesWaiting() {
			runtime.Gosched()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-queued; err != nil {
		t.Fatal(err)
	}
	if db.GroupWritesWaiting() {
		t.Fatal("still waiting after the login write committed")
	}
}
