package instance

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/testkit/testdb"
)

// startTwo starts two instances on one database (SQLite, or PostgreSQL
// under PORTAL_TEST_DB=postgres), as two portal processes sharing it would.
func startTwo(t *testing.T) (a, b *Instance, c *clock.Fake) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db := testdb.OpenNew(t)
	c = clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	start := func() *Instance {
		in, err := Start(ctx, Options{Store: db, Clock: c, Dir: filepath.Join(dir, "instances")})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	return start(), start(), c
}

func lead(t *testing.T, in *Instance, name string) bool {
	t.Helper()
	held, err := in.Lead(context.Background(), name, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return held
}

func TestLeadOneInstanceAtATime(t *testing.T) {
	a, b, c := startTwo(t)
	defer a.Stop(context.Background())
	defer b.Stop(context.Background())
	if !lead(t, a, "sweep") {
		t.Fatal("the first instance did not get a free lease")
	}
	if lead(t, b, "sweep") {
		t.Fatal("two instances hold the sweep lease at once")
	}
	if !lead(t, b, "audit") {
		t.Fatal("another lease's holder kept the second instance from a free one")
	}
	// The holder renews within the lease: it keeps it past the first ttl.
	c.Advance(2 * time.Minute)
	if !lead(t, a, "sweep") {
		t.Fatal("the holder could not renew its lease")
	}
	c.Advance(2 * time.Minute)
	if lead(t, b, "sweep") {
		t.Fatal("the other instance took a renewed lease")
	}
	// A holder that stops renewing (hung, or on a host whose heartbeat is
	// not yet stale) loses the lease when it ends.
	c.Advance(3 * time.Minute)
	if !lead(t, b, "sweep") {
		t.Fatal("the lease did not pass on when it ended")
	}
	if lead(t, a, "sweep") {
		t.Fatal("the old holder took the lease back from the new one")
	}
}

func TestLeadPassesOnAtOnceWhenTheHolderStopsOrDies(t *testing.T) {
	ctx := context.Background()
	a, b, _ := startTwo(t)
	defer b.Stop(ctx)
	if !lead(t, a, "sweep") || lead(t, b, "sweep") {
		t.Fatal("the first instance should hold the lease alone")
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !lead(t, b, "sweep") {
		t.Fatal("a stopped instance's lease was not handed back")
	}

	// A process killed with its lease: the kernel drops its lock, as
	// closing the lock file does here, and the next Reap hands the lease on
	// without waiting for it to end.
	c2, d, _ := startTwo(t)
	defer d.Stop(ctx)
	if !lead(t, c2, "sweep") {
		t.Fatal("no lease")
	}
	c2.lock.Close()
	dead, err := d.Reap(ctx)
	if err != nil || len(dead) != 1 || dead[0] != c2.ID() {
		t.Fatalf("reaped %v, %v; want [%s]", dead, err, c2.ID())
	}
	if !lead(t, d, "sweep") {
		t.Fatal("a dead instance's lease was not handed back by Reap")
	}
}
