package users_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

func TestFormCheckLimitsAndStatusRule(t *testing.T) {
	ok := users.Form{Username: "jamie", Email: "jamie@example.com", Status: store.StatusActive}
	if p := ok.Check(true, ""); len(p) != 0 {
		t.Fatalf("a good form has problems: %v", p)
	}
	bad := users.Form{Username: "no spaces", Email: "nope", RealName: strings.Repeat("x", 201), Notes: strings.Repeat("y", 2001), Status: store.StatusLockedOut}
	p := bad.Check(true, "")
	for field, want := range map[string]error{"username": users.ErrInvalidUsername, "email": users.ErrInvalidEmail,
		"realname": users.ErrRealNameTooLong, "notes": users.ErrNotesTooLong, "status": users.ErrStatusChoice} {
		if !errors.Is(p[field], want) {
			t.Errorf("%s: got %v, want %v", field, p[field], want)
		}
	}
	// A locked-out user may keep the status on an edit, never get it.
	locked := users.Form{Status: store.StatusLockedOut}
	if p := locked.Check(false, store.StatusLockedOut); p["status"] != nil {
		t.Fatalf("keeping locked_out refused: %v", p["status"])
	}
	if p := locked.Check(false, store.StatusActive); !errors.Is(p["status"], users.ErrStatusChoice) {
		t.Fatalf("choosing locked_out allowed: %v", p["status"])
	}
}

func TestAddEditUnlockDeleteWriteTheirAuditRecords(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	who := audit.Admin("owner@example.com", "127.0.0.1")
	g, err := p.Users.CreateGroup(ctx, "Staff", "", who)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Users.CreateGroup(ctx, "Staff", "", who); !errors.Is(err, users.ErrGroupNameTaken) {
		t.Fatalf("second group of the same name: %v", err)
	}
	u, err := p.Users.Add(ctx, users.Form{Username: "jamie", Email: "jamie@example.com", Status: store.StatusActive, Groups: []string{g.Key}}, who)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Users.Add(ctx, users.Form{Username: "jamie", Status: store.StatusActive}, who); !errors.Is(err, users.ErrUsernameTaken) {
		t.Fatalf("second jamie: %v", err)
	}
	if err := p.Users.Edit(ctx, u, users.Form{Email: "j@example.com", Status: store.StatusBypass, Groups: []string{"DGnosuchgroup"}}, who); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("edit with a deleted group: %v", err)
	}
	got, err := p.Store.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "jamie@example.com" {
		t.Fatalf("a refused edit changed the email to %q", got.Email)
	}
	if err := p.Users.Edit(ctx, got, users.Form{Email: "j@example.com", Status: store.StatusActive}, who); err != nil {
		t.Fatal(err)
	}
	groups, err := p.Store.GroupsOfUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 {
		t.Fatalf("still in %v after unchecking every group", groups)
	}
	if err := p.Users.Unlock(ctx, got, who); !errors.Is(err, users.ErrNotLockedOut) {
		t.Fatalf("unlock of an active user: %v", err)
	}
	if err := p.Users.Delete(ctx, got, who); err != nil {
		t.Fatal(err)
	}
	entries, err := p.Store.AuditForTarget(ctx, audit.TargetUser, "jamie", 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action]++
	}
	for action, n := range map[string]int{audit.UserCreated: 1, audit.UserGroupAdded: 1, audit.UserUpdated: 1, audit.UserGroupRemoved: 1, audit.UserDeleted: 1} {
		if seen[action] != n {
			t.Errorf("%s: %d audit records, want %d (all: %v)", action, seen[action], n, seen)
		}
	}
}
