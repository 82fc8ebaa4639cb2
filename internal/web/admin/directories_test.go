package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

const directoryPageFixture = testkit.SlapdOUs + `dn: uid=mia,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: mia
cn: Mia Moss
sn: Moss
mail: mia@example.org

dn: uid=noa,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: noa
cn: Noa North
sn: North
mobile: not a number

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=mia,ou=people,dc=example,dc=org
member: uid=noa,ou=people,dc=example,dc=org

`

func TestAdminDirectoryPagesAddPreviewSyncRestore(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.New(t)
	ctx := context.Background()
	viewer, _ := p.SignInAs(t, admin.RoleReadOnly)
	if r := viewer.Get("/admin/directories"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "There are no directories yet") || strings.Contains(r.Body, "Add a directory") {
		t.Fatalf("read-only list: %d", r.StatusCode)
	}
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	c.Get("/admin/directories")
	form := url.Values{"name": {"corp"}, "kind": {"openldap"}, "url": {"http://wrong"}, "bind_dn": {srv.RootDN}, "password": {srv.RootPW},
		"users_base": {"ou=people,dc=example,dc=org"}, "groups_base": {"ou=groups,dc=example,dc=org"}, "groups": {"staff\n"}}
	r := c.Post("/admin/directories", form)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Write the address as ldap://host:port") || !strings.Contains(r.Body, `id="url" name="url" value="http://wrong"`) {
		t.Fatalf("bad address: %d %s", r.StatusCode, r.Body)
	}
	if list, _ := p.Store.Directories(ctx); len(list) != 0 {
		t.Fatalf("a refused form saved a directory")
	}
	form.Set("url", srv.URL)
	if r := c.Post("/admin/directories", form); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/directories/corp" {
		t.Fatalf("add: %d %s", r.StatusCode, r.Location())
	}
	if r := c.Get("/admin/directories/corp"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Directory corp") || strings.Contains(r.Body, srv.RootPW) {
		t.Fatalf("directory page: %d", r.StatusCode)
	}
	if r := c.Post("/admin/directories/corp/test", nil); !strings.Contains(r.Body, "Connected. The directory shows 2 users and 1 group to sync.") {
		t.Fatalf("test connection: %s", r.Body)
	}
	r = c.Post("/admin/directories/corp/preview", nil)
	if !strings.Contains(r.Body, "Preview: nothing was changed") || !strings.Contains(r.Body, "Users created: 2") || !strings.Contains(r.Body, `&#34;not a number&#34; is not a valid phone number`) {
		t.Fatalf("preview: %s", r.Body)
	}
	if n, _ := p.Store.CountUsers(ctx); n != 0 {
		t.Fatalf("the preview created %d users", n)
	}
	r = syncAndWait(t, p, c, nil)
	if !strings.Contains(r.Body, "The sync started") || !strings.Contains(r.Body, "Users created: 2: ") || !strings.Contains(r.Body, "succeeded") ||
		!strings.Contains(r.Body, "Read 2 entries, compared 2, wrote 2 users.") {
		t.Fatalf("sync: %s", r.Body)
	}
	if u, err := p.Store.UserByUsername(ctx, "mia"); err != nil || u.Email != "mia@example.org" {
		t.Fatalf("mia: %+v %v", u, err)
	}

	// noa leaves: 1 of 2 is over the threshold; the page asks to confirm.
	conn, err := ldap.DialURL(srv.URL)
	testkit.NoErr(t, err)
	testkit.NoErr(t, conn.Bind(srv.RootDN, srv.RootPW))
	m := ldap.NewModifyRequest("cn=staff,ou=groups,dc=example,dc=org", nil)
	m.Delete("member", []string{"uid=noa,ou=people,dc=example,dc=org"})
	testkit.NoErr(t, conn.Modify(m))
	conn.Close()
	r = syncAndWait(t, p, c, nil)
	if !strings.Contains(r.Body, "stopped before changing anything") || !strings.Contains(r.Body, "Confirm and sync") || !strings.Contains(r.Body, "more than 10%") {
		t.Fatalf("over-threshold sync: %s", r.Body)
	}
	if u, _ := p.Store.UserByUsername(ctx, "noa"); u.Status != store.StatusActive {
		t.Fatalf("the held run changed noa: %s", u.Status)
	}
	if r := viewer.Get("/admin/directories/corp"); strings.Contains(r.Body, "Confirm and sync") || strings.Contains(r.Body, "Sync now") {
		t.Fatalf("a read-only admin sees the sync buttons")
	}
	r = syncAndWait(t, p, c, url.Values{"confirm": {"1"}})
	if !strings.Contains(r.Body, "Users disabled: 1: noa") || !strings.Contains(r.Body, `value="noa"`) {
		t.Fatalf("confirmed sync: %s", r.Body)
	}
	if u, _ := p.Store.UserByUsername(ctx, "noa"); u.Status != store.StatusDisabled {
		t.Fatalf("noa left but is %s", u.Status)
	}
	if r := c.Post("/admin/directories/corp/restore", url.Values{"username": {"noa"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d", r.StatusCode)
	}
	if r := c.Get("/admin/directories/corp"); !strings.Contains(r.Body, "noa was restored and is active again.") || !strings.Contains(r.Body, "The trash is empty.") {
		t.Fatalf("after restore: %s", r.Body)
	}
	if u, _ := p.Store.UserByUsername(ctx, "noa"); u.Status != store.StatusActive {
		t.Fatalf("restored noa is %s", u.Status)
	}
	if r := c.Post("/admin/directories/corp/restore", url.Values{"username": {"mia"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "mia is not in this directory&#39;s trash") {
		t.Fatalf("restore of a user not in the trash: %d", r.StatusCode)
	}
	if r := c.Get("/admin/directories/nope"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown directory: %d", r.StatusCode)
	}
}

// syncAndWait presses "Sync now" (with form), waits for the run it
// started in the background, and returns the directory's page.
func syncAndWait(t *testing.T, p *testkit.Portal, c *testkit.Client, form url.Values) testkit.Response {
	t.Helper()
	r := c.Post("/admin/directories/corp/sync", form)
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/directories/corp" {
		t.Fatalf("sync now: %d %s %s", r.StatusCode, r.Location(), r.Body)
	}
	p.Directories.Wait()
	return c.Get("/admin/directories/corp")
}
