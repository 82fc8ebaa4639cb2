package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/org"
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

// TestAdminPolicyAndSettingsRefuseNULAndInvalidUTF8: a policy's name, an
// admin's name and the organisation's name and header line are stored
// text like any other, shown on every page and in every message; each bad
// one is refused by field, and nothing is stored.
func TestAdminPolicyAndSettingsRefuseNULAndInvalidUTF8(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleOwner)

	c.Get("/admin/policies")
	for _, b := range []struct {
		name, want string
	}{
		{"Strict\x00", "The policy name field contains a NUL character"},
		{"Stri\xffct", "The policy name field is not valid UTF-8"},
	} {
		r := c.Post("/admin/policies", url.Values{"name": {b.name}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("new policy %q: %d, want 422 with %q\n%s", b.name, r.StatusCode, b.want, r.Body)
		}
	}
	if ps := testkit.Got(p.Store.Policies(ctx)).Must(t); len(ps) != 1 {
		t.Fatalf("refused names created policies: %+v", ps)
	}

	c.Get("/admin/admins")
	for _, b := range []struct {
		name, want string
	}{
		{"Ops\x00", "The name field contains a NUL character"},
		{"\xc3Ops", "The name field is not valid UTF-8"},
	} {
		r := c.Post("/admin/admins", url.Values{"email": {"new.admin@example.org"}, "name": {b.name}, "role": {"help_desk"}, "password": {testkit.AdminPassword}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("new admin named %q: %d, want 422 with %q\n%s", b.name, r.StatusCode, b.want, r.Body)
		}
	}
	if n := testkit.Got(p.Store.CountAdmins(ctx)).Must(t); n != 1 {
		t.Fatalf("refused names created admins: %d admins", n)
	}

	c.Get("/admin/settings")
	for _, b := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"org_name": {"Acme\x00"}, "activation_hours": {"24"}}, "The organisation name field contains a NUL character"},
		{url.Values{"org_name": {"Acm\xe9"}, "activation_hours": {"24"}}, "The organisation name field is not valid UTF-8"},
		{url.Values{"org_name": {"Acme"}, "activation_hours": {"24"}, "message_header": {"From\x00IT"}}, "The header line field contains a NUL character"},
		{url.Values{"org_name": {"Acme"}, "activation_hours": {"24"}, "message_header": {"From \xc3IT"}}, "The header line field is not valid UTF-8"},
	} {
		r := c.Post("/admin/settings", b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("settings %q: %d, want 422 with %q\n%s", b.form, r.StatusCode, b.want, r.Body)
		}
	}
	if v := testkit.Got(org.Load(ctx, p.Store)).Must(t); v.Name != "" || v.MessageHeader != "" {
		t.Fatalf("refused settings were saved: %+v", v)
	}
}
