package directory_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/directory"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func runCount(t *testing.T, e *env, name string) int {
	t.Helper()
	runs, err := e.svc.Runs(context.Background(), name, 100)
	testkit.NoErr(t, err)
	return len(runs)
}

// TestDirectoryScheduleRunsDueSyncsOnceUnderTheLease drives the
// scheduler with the fake clock: a directory without a schedule never
// runs; a scheduled one runs when due, once, even when two portal
// processes (two services on one database) look at the same moment, and
// not while another process holds its lease.
func TestDirectoryScheduleRunsDueSyncsOnceUnderTheLease(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	off := e.settings()
	off.Groups = []string{"admins"}
	e.add(t, "off", off, e.ldap.RootPW)
	scheduled := e.settings()
	scheduled.ScheduleMinutes = 60
	e.add(t, "corp", scheduled, e.ldap.RootPW)

	n, err := e.svc.RunDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("first look: ran %d, %v", n, err)
	}
	if runCount(t, e, "corp") != 1 || runCount(t, e, "off") != 0 {
		t.Fatalf("runs: corp %d, off %d", runCount(t, e, "corp"), runCount(t, e, "off"))
	}
	if u := e.user(t, "alice"); u.Email != "alice@example.org" {
		t.Fatalf("the scheduled sync did not create alice: %+v", u)
	}

	// Not due until 60 minutes after the last sync.
	e.clock.Advance(59 * time.Minute)
	if n, err := e.svc.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("after 59 minutes: ran %d, %v", n, err)
	}
	e.clock.Advance(time.Minute)

	// Two processes look at once: one runs it, the other finds it busy or
	// already synced.
	other := &directory.Service{Store: e.db, Clock: e.clock, Box: e.svc.Box}
	var wg sync.WaitGroup
	ran := make([]int, 2)
	for i, svc := range []*directory.Service{e.svc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := svc.RunDue(ctx)
			if err != nil {
				t.Errorf("process %d: %v", i, err)
			}
			ran[i] = n
		}()
	}
	wg.Wait()
	if ran[0]+ran[1] != 1 || runCount(t, e, "corp") != 2 {
		t.Fatalf("two processes ran %v; %d runs recorded", ran, runCount(t, e, "corp"))
	}

	// Another process holds the lease (a sync of its own): the scheduler
	// leaves the directory alone until the lease has expired.
	e.clock.Advance(time.Hour)
	d, err := e.db.DirectoryByName(ctx, "corp")
	testkit.NoErr(t, err)
	ok, err := e.db.TakeDirectoryLease(ctx, d.ID, "another-process", e.clock.Now(), e.clock.Now().Add(2*time.Minute))
	if err != nil || !ok {
		t.Fatalf("take the lease: %v %v", ok, err)
	}
	if n, err := e.svc.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("while another process holds the lease: ran %d, %v", n, err)
	}
	if _, err := e.svc.Sync(ctx, "corp", directory.Options{}); !errors.Is(err, directory.ErrBusy) {
		t.Fatalf("sync now while the lease is held: %v", err)
	}
	e.clock.Advance(3 * time.Minute)
	if n, err := e.svc.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease expired: ran %d, %v", n, err)
	}
	if runCount(t, e, "corp") != 3 || runCount(t, e, "off") != 0 {
		t.Fatalf("runs: corp %d, off %d", runCount(t, e, "corp"), runCount(t, e, "off"))
	}
}

// TestDirectoryRunLeftRunningIsMarkedFailed: a run left "running" by a
// process that stopped (its lease expired) is marked failed by the next
// run, so that the page does not show it running for ever.
func TestDirectoryRunLeftRunningIsMarkedFailed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(t, "corp", e.settings(), e.ldap.RootPW)
	d, err := e.db.DirectoryByName(ctx, "corp")
	testkit.NoErr(t, err)
	stale := store.DirectoryRun{DirectoryID: d.ID, Kind: "full", Status: "running", Counts: "{}", StartedAt: e.clock.Now()}
	testkit.NoErr(t, e.db.CreateDirectoryRun(ctx, &stale))
	e.clock.Advance(time.Hour)
	e.sync(t, "corp", directory.Options{})
	runs, err := e.svc.Runs(ctx, "corp", 10)
	testkit.NoErr(t, err)
	if len(runs) != 2 || runs[0].Status != "succeeded" || runs[1].ID != stale.ID || runs[1].Status != "failed" ||
		!strings.Contains(runs[1].Error, "stopped before it finished") || runs[1].FinishedAt == nil {
		t.Fatalf("runs: %+v", runs)
	}
}

// TestDirectoryStartRunsInTheBackground starts a sync that goes on after
// Start returns, and records its figures; a preview is not started.
func TestDirectoryStartRunsInTheBackground(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(t, "corp", e.settings(), e.ldap.RootPW)
	id, err := e.svc.Start(ctx, "corp", directory.Options{})
	testkit.NoErr(t, err)
	e.svc.Wait()
	run, ok, err := e.svc.Latest(ctx, "corp")
	if err != nil || !ok || run.ID != id || run.Status != "succeeded" || run.Figures.Created != 4 || run.Figures.Written != 4 {
		t.Fatalf("latest run: %+v %v %v", run, ok, err)
	}
	if _, err := e.svc.Start(ctx, "corp", directory.Options{DryRun: true}); err == nil {
		t.Fatal("a preview was started in the background")
	}
}

// TestDirectoryTrashIsPurgedWithoutASync: a user who left a directory
// that is never synced again is still deleted, with the phone only they
// had, once 7 days in the trash are over; the scheduler's hourly look does
// it, not before.
func TestDirectoryTrashIsPurgedWithoutASync(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	set := e.settings()
	set.RemovalShare = 1
	e.add(t, "corp", set, e.ldap.RootPW)
	e.sync(t, "corp", directory.Options{})
	bob := e.user(t, "bob")
	phones, err := e.db.PhonesByUser(ctx, bob.ID)
	testkit.NoErr(t, err)
	if len(phones) != 1 {
		t.Fatalf("bob's phones: %+v", phones)
	}
	e.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("cn=staff,ou=groups,dc=example,dc=org", nil)
		m.Delete("member", []string{"uid=bob,ou=people,dc=example,dc=org"})
		return c.Modify(m)
	})
	e.sync(t, "corp", directory.Options{Full: true})
	if u := e.user(t, "bob"); u.Status != store.StatusDisabled {
		t.Fatalf("bob left but is %s", u.Status)
	}

	// Nobody syncs corp again (it has no schedule). The scheduler's first
	// look is now: bob has 7 days left.
	if n, err := e.svc.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("ran %d, %v", n, err)
	}
	e.clock.Advance(7*24*time.Hour - time.Minute)
	if _, err := e.svc.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	e.user(t, "bob") // still in the trash, a minute before his time
	e.clock.Advance(time.Hour)
	if _, err := e.svc.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UserByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob after 7 days in the trash: %v", err)
	}
	if _, err := e.db.PhoneByID(ctx, phones[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob's phone after the purge: %v", err)
	}
	list, err := e.db.SearchAudit(ctx, store.AuditFilter{Action: "user.deleted", Target: "bob", Limit: 5})
	testkit.NoErr(t, err)
	if len(list) != 1 || list[0].Actor != "directory:corp" {
		t.Fatalf("audit of the purge: %+v", list)
	}
	if runCount(t, e, "corp") != 2 {
		t.Fatalf("the purge recorded a run: %d runs", runCount(t, e, "corp"))
	}
}
