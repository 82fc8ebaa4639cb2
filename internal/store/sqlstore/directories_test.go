package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// TestDirectoryUpdateAndDeleteKeepUsersAndGroups: an update writes the
// settings, password and cursor; a delete takes the directory's links,
// lease and runs with it and leaves its users and groups; a user one
// directory owns cannot be linked to another.
func TestDirectoryUpdateAndDeleteKeepUsersAndGroups(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	d := store.Directory{Name: "corp", Kind: "ldap", Config: `{"a":1}`, BindPassword: []byte("sealed-1"), CreatedAt: t0}
	other := store.Directory{Name: "other", Kind: "ldap", Config: `{}`, BindPassword: []byte("x"), CreatedAt: t0}
	for _, dir := range []*store.Directory{&d, &other} {
		if err := db.CreateDirectory(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	u := mustUser(t, db, "mia")
	g := store.Group{Key: "DGstaff", Name: "staff", CreatedAt: t0}
	if err := db.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkDirectoryUser(ctx, d.ID, "uuid-mia", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.LinkDirectoryUser(ctx, other.ID, "uuid-2", u.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a user of one directory linked to another: %v", err)
	}
	if err := db.LinkDirectoryGroup(ctx, d.ID, "uuid-staff", g.ID); err != nil {
		t.Fatal(err)
	}
	run := store.DirectoryRun{DirectoryID: d.ID, Kind: "full", Status: "succeeded", Counts: "{}", StartedAt: t0}
	if err := db.CreateDirectoryRun(ctx, &run); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.TakeDirectoryLease(ctx, d.ID, "holder", t0, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if err := db.SetDirectorySynced(ctx, d.ID, t0, "succeeded", "cursor-1", nil); err != nil {
		t.Fatal(err)
	}

	d.Kind, d.Config, d.BindPassword, d.SyncCursor = "active-directory", `{"b":2}`, []byte("sealed-2"), ""
	if err := db.UpdateDirectory(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := db.DirectoryByName(ctx, "corp")
	if err != nil || got.Kind != "active-directory" || got.Config != `{"b":2}` || string(got.BindPassword) != "sealed-2" || got.SyncCursor != "" {
		t.Fatalf("after update: %+v %v", got, err)
	}

	if err := db.DeleteDirectory(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DirectoryByName(ctx, "corp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted directory: %v", err)
	}
	if runs, err := db.DirectoryRuns(ctx, d.ID, 10); err != nil || len(runs) != 0 {
		t.Fatalf("runs of the deleted directory: %+v %v", runs, err)
	}
	if _, err := db.UserByUsername(ctx, "mia"); err != nil {
		t.Fatalf("the user went with the directory: %v", err)
	}
	if _, err := db.GroupByKey(ctx, "DGstaff"); err != nil {
		t.Fatalf("the group went with the directory: %v", err)
	}
	// The user is free of any directory now: another may adopt it.
	if err := db.LinkDirectoryUser(ctx, other.ID, "uuid-2", u.ID); err != nil {
		t.Fatalf("link to the other directory after the delete: %v", err)
	}
	if err := db.UpdateDirectory(ctx, d); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a deleted directory: %v", err)
	}
	if err := db.DeleteDirectory(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete of a deleted directory: %v", err)
	}
}
