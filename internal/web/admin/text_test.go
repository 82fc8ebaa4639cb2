package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/testkit"
)

// TestAdminFormsRefuseNULAndInvalidUTF8 sends a NUL byte and bytes that are
// not UTF-8 in every free-text field of the admin forms: each is refused
// with a sentence naming the field, and nothing is stored.
func TestAdminFormsRefuseNULAndInvalidUTF8(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleUserManager)

	c.Get("/admin/users/new")
	for _, b := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"username": {"carol"}, "status": {"active"}, "realname": {"Carol\x00Jones"}}, "The real name field contains a NUL character"},
		{url.Values{"username": {"carol"}, "status": {"active"}, "realname": {"Caf\xe9"}}, "The real name field is not valid UTF-8"},
		{url.Values{"username": {"carol"}, "status": {"active"}, "notes": {"see\x00below"}}, "The notes field contains a NUL character"},
		{url.Values{"username": {"carol"}, "status": {"active"}, "notes": {"\xff\xfe"}}, "The notes field is not valid UTF-8"},
		{url.Values{"username": {"car\x00ol"}, "status": {"active"}}, "A username is 1 to 100 characters"},
	} {
		r := c.Post("/admin/users/new", b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("new user %q: %d, want 422 with %q\n%s", b.form, r.StatusCode, b.want, r.Body)
		}
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("refused input created %d users", n)
	}

	u := addUser(t, p, "dave", "dave@example.org", "Dave")
	edit := "/admin/users/" + u.Key + "/edit"
	c.Get(edit)
	for _, b := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"realname": {"Dave\x00"}, "status": {"active"}}, "The real name field contains a NUL character"},
		{url.Values{"realname": {"Dave"}, "notes": {"na\xefve"}, "status": {"active"}}, "The notes field is not valid UTF-8"},
	} {
		r := c.Post(edit, b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("edit %q: %d, want 422 with %q\n%s", b.form, r.StatusCode, b.want, r.Body)
		}
	}
	if got, _ := p.Store.UserByID(ctx, u.ID); got.RealName != "Dave" || got.Notes != "" {
		t.Fatalf("a refused edit changed the user: %+v", got)
	}

	c.Get("/admin/groups")
	for _, b := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"Staff\x00"}}, "The group name field contains a NUL character"},
		{url.Values{"name": {"Sta\xc3ff"}}, "The group name field is not valid UTF-8"},
		{url.Values{"name": {"Staff"}, "description": {"x\x00y"}}, "The description field contains a NUL character"},
	} {
		r := c.Post("/admin/groups", b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("new group %q: %d, want 422 with %q\n%s", b.form, r.StatusCode, b.want, r.Body)
		}
	}
	if gs := testkit.Got(p.Store.Groups(ctx)).Must(t); len(gs) != 0 {
		t.Fatalf("refused input created groups: %+v", gs)
	}
}
