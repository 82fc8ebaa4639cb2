package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

func addUser(t *testing.T, p *testkit.Portal, username, email, realname string) store.User {
	t.Helper()
	u, err := p.Users.Create(context.Background(), users.NewUser{Username: username, Email: email, RealName: realname}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAdminUsersAddEditDelete(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, a := p.SignInAs(t, admin.RoleUserManager)
	g := store.Group{Key: "DGSTAFF0000000000000", Name: "Staff", CreatedAt: p.Clock.Now()}
	if err := p.Store.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}

	if r := c.Get("/admin/users/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `value="DGSTAFF0000000000000"`) {
		t.Fatalf("add form: %d", r.StatusCode)
	}
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"username": {"bad name!"}, "status": {"active"}}, "A username is 1 to 100 characters"},
		{url.Values{"username": {"carol"}, "email": {"carol@"}, "status": {"active"}}, "That email address does not look right"},
		{url.Values{"username": {"carol"}, "status": {"locked_out"}}, "Choose one of the statuses"},
		{url.Values{"username": {"carol"}, "status": {"active"}, "groups": {"DGNOSUCHGROUP"}}, "no longer exists"},
		{url.Values{"username": {"carol"}, "status": {"active"}, "realname": {strings.Repeat("x", 201)}}, "at most 200 characters"},
	}
	for _, b := range bad {
		r := c.Post("/admin/users/new", b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) || !strings.Contains(r.Body, "Nothing was saved") {
			t.Errorf("%v: %d, want 422 with %q", b.form, r.StatusCode, b.want)
		}
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("bad input created %d users", n)
	}

	r := c.Post("/admin/users/new", url.Values{"username": {"  Carol "}, "realname": {"Carol Jones"}, "email": {"carol@example.org"},
		"status": {"active"}, "groups": {g.Key}, "notes": {"New starter"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/admin/users/DU") {
		t.Fatalf("add: %d %s\n%s", r.StatusCode, r.Location(), r.Body)
	}
	u, err := p.Store.UserByUsername(ctx, "carol")
	if err != nil || u.RealName != "Carol Jones" || u.Notes != "New starter" {
		t.Fatalf("stored: %+v %v", u, err)
	}
	if gs := testkit.Got(p.Store.GroupsOfUser(ctx, u.ID)).Must(t); len(gs) != 1 || gs[0].Name != "Staff" {
		t.Fatalf("groups: %+v", gs)
	}
	page := c.Get(r.Location())
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "User carol was added.") || !strings.Contains(page.Body, "Carol Jones") || !strings.Contains(page.Body, "user.created") {
		t.Fatalf("detail: %d\n%s", page.StatusCode, page.Body)
	}
	if r := c.Post("/admin/users/new", url.Values{"username": {"CAROL"}, "status": {"active"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "already exists") {
		t.Fatalf("duplicate: %d", r.StatusCode)
	}

	// Edit: bad input changes nothing; good input saves and drops the group.
	edit := "/admin/users/" + u.Key + "/edit"
	c.Get(edit)
	if r := c.Post(edit, url.Values{"email": {"nope"}, "status": {"disabled"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit: %d", r.StatusCode)
	}
	if got := testkit.Got(p.Store.UserByID(ctx, u.ID)).Must(t); got.Status != store.StatusActive || got.Email != "carol@example.org" {
		t.Fatalf("bad edit changed the user: %+v", got)
	}
	if r := c.Post(edit, url.Values{"realname": {"Carol J."}, "email": {"cj@example.org"}, "status": {"bypass"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.StatusCode, r.Body)
	}
	got := testkit.Got(p.Store.UserByID(ctx, u.ID)).Must(t)
	if got.RealName != "Carol J." || got.Email != "cj@example.org" || got.Status != store.StatusBypass || got.Notes != "" {
		t.Fatalf("after edit: %+v", got)
	}
	if gs := testkit.Got(p.Store.GroupsOfUser(ctx, u.ID)).Must(t); len(gs) != 0 {
		t.Fatalf("group kept after unchecking: %+v", gs)
	}
	entries := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetUser, "carol", 10)).Must(t)
	var actions []string
	for _, e := range entries {
		if e.ActorType == audit.ActorAdmin && e.Actor != a.Email {
			t.Errorf("audit actor %q", e.Actor)
		}
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.UserCreated, audit.UserGroupAdded, audit.UserUpdated, audit.UserGroupRemoved} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("no %s in %v", want, actions)
		}
	}

	// Delete after confirmation.
	if r := c.Get("/admin/users/" + u.Key + "/delete"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "cannot be undone") {
		t.Fatalf("confirm page: %d", r.StatusCode)
	}
	if r := c.Post("/admin/users/"+u.Key+"/delete", nil); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/users" {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Location())
	}
	if _, err := p.Store.UserByID(ctx, u.ID); err != store.ErrNotFound {
		t.Fatalf("user still there: %v", err)
	}
	if r := c.Get("/admin/users/" + u.Key); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted user's page: %d", r.StatusCode)
	}
}

func TestAdminUsersSearchAndPages(t *testing.T) {
	p := testkit.New(t)
	for i := 0; i < 120; i++ {
		name := "user" + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
		addUser(t, p, name, name+"@example.org", "")
	}
	addUser(t, p, "zed", "boss@corp.example", "Anna Zed")
	c, _ := p.SignInAs(t, admin.RoleReadOnly)

	first := c.Get("/admin/users")
	if first.StatusCode != http.StatusOK || !strings.Contains(first.Body, ">useraa<") || !strings.Contains(first.Body, "after=userbx") {
		t.Fatalf("first page: %d", first.StatusCode)
	}
	second := c.Get("/admin/users?after=userbx")
	if strings.Contains(second.Body, ">userbx<") || !strings.Contains(second.Body, ">userby<") || !strings.Contains(second.Body, "First page") {
		t.Fatalf("second page does not continue after userbx")
	}
	for q, want := range map[string]string{"BOSS@": ">zed<", "anna": ">zed<", "userd": ">userda<", "Zed": ">zed<"} {
		r := c.Get("/admin/users?q=" + url.QueryEscape(q))
		if !strings.Contains(r.Body, want) {
			t.Errorf("search %q: no %s", q, want)
		}
	}
	if r := c.Get("/admin/users?q=nothing-here"); !strings.Contains(r.Body, "No user's username, email or name starts with") {
		t.Errorf("empty search:\n%s", r.Body)
	}
	// Read-only admins see no buttons that would be refused.
	if strings.Contains(first.Body, "Add a user") {
		t.Error("read-only admin is offered Add a user")
	}
}

func TestAdminUserUnlock(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	u := addUser(t, p, "dave", "dave@example.org", "")
	if err := p.Store.SetUserStatus(ctx, u.ID, store.StatusLockedOut, false, p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	if r := c.Get("/admin/users/" + u.Key); !strings.Contains(r.Body, "/unlock") {
		t.Fatal("no unlock button for a locked-out user")
	}
	if r := c.Post("/admin/users/"+u.Key+"/unlock", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.StatusCode)
	}
	if got := testkit.Got(p.Store.UserByID(ctx, u.ID)).Must(t); got.Status != store.StatusActive || got.FailedAttempts != 0 {
		t.Fatalf("after unlock: %+v", got)
	}
	if r := c.Get("/admin/users/" + u.Key); !strings.Contains(r.Body, "dave is unlocked") || !strings.Contains(r.Body, audit.UserUnlocked) {
		t.Fatal("no confirmation or audit on the user page")
	}
}
