package admin_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// auditCount counts the audit records of an action.
func auditCount(t *testing.T, p *testkit.Portal, action string) int {
	t.Helper()
	list, err := p.Store.SearchAudit(context.Background(), store.AuditFilter{Action: action, Limit: 100})
	testkit.NoErr(t, err)
	return len(list)
}

// fieldValue reads a text field's or a text area's value from a page.
func fieldValue(body, name string) string {
	if m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	if m := regexp.MustCompile(`(?s)<textarea id="[^"]*" name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// editForm is the edit form as the page fills it in, with changes.
func editForm(t *testing.T, c *testkit.Client, changes url.Values) url.Values {
	t.Helper()
	r := c.Get("/admin/directories/corp/edit")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("edit form: %d", r.StatusCode)
	}
	form := url.Values{}
	for _, name := range []string{"url", "bind_dn", "users_base", "groups_base", "groups", "extra_filter", "default_country", "schedule",
		"user_filter", "username_attr", "realname_attr", "email_attr", "phone_attrs", "stable_id_attr", "group_filter", "group_name_attr",
		"member_attr", "removal_percent"} {
		form.Set(name, fieldValue(r.Body, name))
	}
	form.Set("kind", "openldap")
	form.Set("membership", "member")
	for k, v := range changes {
		form[k] = v
	}
	return form
}

// TestAdminDirectoryEditPickerMappingAndDelete edits a directory: the
// groups chosen from the list read from the directory, the mapping with
// the kind's preset, the bind password kept unless typed; bad values are
// refused by field; then deletes it, keeping its users.
func TestAdminDirectoryEditPickerMappingAndDelete(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	addCorpDirectory(t, c, srv, nil)
	conn, err := ldap.DialURL(srv.URL)
	testkit.NoErr(t, err)
	testkit.NoErr(t, conn.Bind(srv.RootDN, srv.RootPW))
	add := ldap.NewAddRequest("cn=sales,ou=groups,dc=example,dc=org", nil)
	add.Attribute("objectClass", []string{"groupOfNames"})
	add.Attribute("cn", []string{"sales"})
	add.Attribute("member", []string{"uid=noa,ou=people,dc=example,dc=org"})
	testkit.NoErr(t, conn.Add(add))
	conn.Close()

	r := c.Get("/admin/directories/corp/edit")
	if r.StatusCode != http.StatusOK || strings.Contains(r.Body, srv.RootPW) || !strings.Contains(r.Body, `id="username_attr" name="username_attr" value="uid"`) ||
		!strings.Contains(r.Body, "Leave empty to keep the current password.") {
		t.Fatalf("edit form: %d %s", r.StatusCode, r.Body)
	}

	// The picker lists the directory's groups, the chosen one checked.
	r = c.Post("/admin/directories/corp/edit", editForm(t, c, url.Values{"action": {"groups"}}))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `name="group" value="sales">`) || !strings.Contains(r.Body, `name="group" value="staff" checked>`) {
		t.Fatalf("picker: %d %s", r.StatusCode, r.Body)
	}
	// The preset of the other kind fills the mapping; nothing is saved.
	r = c.Post("/admin/directories/corp/edit", editForm(t, c, url.Values{"action": {"preset"}, "kind": {"active-directory"}}))
	if !strings.Contains(r.Body, `value="sAMAccountName"`) || !strings.Contains(r.Body, `value="objectGUID"`) {
		t.Fatalf("preset: %s", r.Body)
	}
	// A bad attribute and a bad threshold are refused by field.
	for field, bad := range map[string]string{"username_attr": "user name", "removal_percent": "150", "phone_attrs": "mobile, tel phone"} {
		r = c.Post("/admin/directories/corp/edit", editForm(t, c, url.Values{field: {bad}}))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="`+field+`-error"`) {
			t.Fatalf("%s=%q: %d %s", field, bad, r.StatusCode, r.Body)
		}
	}
	if auditCount(t, p, "directory.updated") != 0 {
		t.Fatal("a refused edit was saved")
	}
	// Saved: both groups picked, a schedule, a threshold; the password kept.
	form := editForm(t, c, url.Values{"picker": {"1"}, "group": {"staff", "sales"}, "schedule": {"30"}, "removal_percent": {"25"}, "realname_attr": {"sn"}})
	if r = c.Post("/admin/directories/corp/edit", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, r.Body)
	}
	d, err := p.Directories.Detail(ctx, "corp")
	testkit.NoErr(t, err)
	if s := d.Settings; strings.Join(s.Groups, ",") != "staff,sales" || s.ScheduleMinutes != 30 || s.RemovalShare != 0.25 || s.Mapping.RealName != "sn" {
		t.Fatalf("saved settings: %+v", s)
	}
	if r := c.Post("/admin/directories/corp/test", nil); !strings.Contains(r.Body, "Connected. The directory shows 2 users and 2 groups") {
		t.Fatalf("the kept password does not bind: %s", r.Body)
	}
	// A new password typed replaces it.
	if r = c.Post("/admin/directories/corp/edit", editForm(t, c, url.Values{"password": {"not-the-password"}})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with a password: %d", r.StatusCode)
	}
	if r := c.Post("/admin/directories/corp/test", nil); strings.Contains(r.Body, "Connected.") || !strings.Contains(r.Body, `role="alert"`) {
		t.Fatalf("a wrong new password still binds: %s", r.Body)
	}
	if auditCount(t, p, "directory.updated") != 2 {
		t.Fatalf("%d directory.updated records, want 2", auditCount(t, p, "directory.updated"))
	}
	if r = c.Post("/admin/directories/corp/edit", editForm(t, c, url.Values{"password": {srv.RootPW}})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with the right password: %d", r.StatusCode)
	}
	syncAndWait(t, p, c, nil)
	if u, err := p.Store.UserByUsername(ctx, "mia"); err != nil || u.RealName != "Moss" {
		t.Fatalf("mia after the sync with realname from sn: %+v %v", u, err)
	}

	// Delete: the box must be ticked; the users stay.
	if r = c.Post("/admin/directories/corp/delete", nil); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="confirm_delete-error"`) {
		t.Fatalf("delete without the box: %d %s", r.StatusCode, r.Body)
	}
	if r = c.Post("/admin/directories/corp/delete", url.Values{"confirm": {"1"}}); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/directories" {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Location())
	}
	if list, _ := p.Store.Directories(ctx); len(list) != 0 {
		t.Fatal("the directory is still there")
	}
	if n, _ := p.Store.CountUsers(ctx); n != 2 {
		t.Fatalf("%d users after deleting the directory, want 2", n)
	}
	if auditCount(t, p, "directory.deleted") != 1 {
		t.Fatal("no audit record of the deletion")
	}
	if r := c.Get("/admin/directories/corp/edit"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("edit of a deleted directory: %d", r.StatusCode)
	}
}

// TestAdminDirectoryConflictsLinkOrRename: directory users whose usernames
// manual users have are listed as conflicts, nothing overwritten, until
// the admin links one (adopted, keeping the user) or renames the other.
func TestAdminDirectoryConflictsLinkOrRename(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.New(t)
	ctx := context.Background()
	mia, err := p.Users.Create(ctx, users.NewUser{Username: "mia", Email: "mia@home.example", RealName: "Mia by hand"}, audit.CLI())
	testkit.NoErr(t, err)
	noa, err := p.Users.Create(ctx, users.NewUser{Username: "noa", RealName: "Noa by hand"}, audit.CLI())
	testkit.NoErr(t, err)
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	addCorpDirectory(t, c, srv, nil)
	page := syncAndWait(t, p, c, nil)
	if !strings.Contains(page.Body, `id="conflicts"`) || !strings.Contains(page.Body, `aria-label="Link mia to the directory"`) || !strings.Contains(page.Body, `aria-label="Link noa to the directory"`) {
		t.Fatalf("conflicts not listed: %s", page.Body)
	}
	if u, _ := p.Store.UserByUsername(ctx, "mia"); u.Email != "mia@home.example" || u.RealName != "Mia by hand" {
		t.Fatalf("the manual mia was overwritten: %+v", u)
	}
	conflicts, err := p.Directories.Conflicts(ctx, "corp")
	testkit.NoErr(t, err)
	if len(conflicts) != 2 {
		t.Fatalf("conflicts: %+v", conflicts)
	}
	stable := map[string]string{}
	for _, cf := range conflicts {
		stable[cf.Username] = cf.StableID
	}
	viewer, _ := p.SignInAs(t, admin.RoleReadOnly)
	if r := viewer.Get("/admin/directories/corp"); !strings.Contains(r.Body, `id="conflicts"`) || strings.Contains(r.Body, "Link mia") {
		t.Fatalf("a read-only admin's view of the conflicts: %s", r.Body)
	}

	// A made-up pair is not a conflict; nothing changes.
	if r := c.Post("/admin/directories/corp/link", url.Values{"username": {"mia"}, "stable_id": {stable["noa"]}}); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, "not an open conflict") {
		t.Fatalf("link of a wrong pair: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post("/admin/directories/corp/link", url.Values{"username": {"mia"}, "stable_id": {stable["mia"]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("link: %d %s", r.StatusCode, r.Body)
	}
	// Renaming to a bad or taken name changes nothing.
	for _, bad := range []string{"not valid!", "mia"} {
		if r := c.Post("/admin/directories/corp/rename", url.Values{"username": {"noa"}, "stable_id": {stable["noa"]}, "new_username": {bad}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("rename to %q: %d %s", bad, r.StatusCode, r.Body)
		}
	}
	if r := c.Post("/admin/directories/corp/rename", url.Values{"username": {"noa"}, "stable_id": {stable["noa"]}, "new_username": {"noa-local"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
	}
	if left, _ := p.Directories.Conflicts(ctx, "corp"); len(left) != 0 {
		t.Fatalf("conflicts left after link and rename: %+v", left)
	}
	if auditCount(t, p, "directory.user_linked") != 1 {
		t.Fatal("no audit record of the link")
	}

	syncAndWait(t, p, c, nil)
	// mia is the same user, now kept by the directory; noa is a new user,
	// and the manual one is noa-local.
	got, err := p.Store.UserByUsername(ctx, "mia")
	if err != nil || got.ID != mia.ID || got.Email != "mia@example.org" || got.RealName != "Mia Moss" {
		t.Fatalf("linked mia after the sync: %+v %v", got, err)
	}
	if got, err := p.Store.UserByUsername(ctx, "noa-local"); err != nil || got.ID != noa.ID {
		t.Fatalf("renamed noa: %+v %v", got, err)
	}
	if got, err := p.Store.UserByUsername(ctx, "noa"); err != nil || got.ID == noa.ID || got.RealName != "Noa North" {
		t.Fatalf("the directory's noa: %+v %v", got, err)
	}
	if r := c.Get("/admin/directories/corp"); strings.Contains(r.Body, `id="conflicts"`) {
		t.Fatal("conflicts still listed after the sync")
	}
}
