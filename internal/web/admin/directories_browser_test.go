package admin_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/testkit"
)

// fillDirectoryAddForm goes to the directories page and fills the add
// form for directory corp on srv at address url, with password when not
// empty.
func fillDirectoryAddForm(b *testkit.Browser, srv *testkit.Slapd, url, password string) {
	b.ClickAndWait(`a[href="/admin/directories"]`)
	b.SetValue("#name", "corp")
	b.SetValue("#url", url)
	b.SetValue("#bind_dn", srv.RootDN)
	if password != "" {
		b.SetValue("#password", password)
	}
	b.SetValue("#users_base", "ou=people,dc=example,dc=org")
	b.SetValue("#groups_base", "ou=groups,dc=example,dc=org")
}

// TestBrowserAdminDirectoryAddTestPreviewSync adds an OpenLDAP directory on
// the page (a real slapd), tests the connection, previews and syncs it,
// with axe-core checking every page at phone and desktop widths.
func TestBrowserAdminDirectoryAddTestPreviewSync(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.Serve(t)
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)

	fillDirectoryAddForm(b, srv, "ldap//wrong", srv.RootPW)
	b.SetValue("#groups", "staff")
	b.ClickAndWait("button[name=action][value=add]")
	if got := b.Text("#url-error"); !strings.Contains(got, "Write the address as ldap://host:port") {
		t.Fatalf("address error %q", got)
	}
	b.SetValue("#url", srv.URL)
	b.SetValue("#password", srv.RootPW) // a password field is not filled back in
	b.ClickAndWait("button[name=action][value=add]")
	b.WaitLocation("/admin/directories/corp")

	b.ClickAndWait(`form[action="/admin/directories/corp/test"] button`)
	if got := b.Text("[role=status]"); !strings.Contains(got, "2 users and 1 group") {
		t.Fatalf("test connection %q", got)
	}
	b.ClickAndWait(`form[action="/admin/directories/corp/preview"] button`)
	if got := b.Text("main"); !strings.Contains(got, "Users created: 2") || !strings.Contains(got, "nothing was changed") {
		t.Fatalf("preview %q", got)
	}
	if n, _ := p.Store.CountUsers(context.Background()); n != 0 {
		t.Fatalf("the preview created %d users", n)
	}
	b.ClickAndWait(`form[action="/admin/directories/corp/sync"]:not(:has(input[name=full])) button`)
	b.WaitVisible("#last-sync")
	if got := b.Text("main"); !strings.Contains(got, "Users created: 2") || !strings.Contains(got, "succeeded") {
		t.Fatalf("sync %q", got)
	}
	if n, _ := p.Store.CountUsers(context.Background()); n != 2 {
		t.Fatalf("the sync created %d users, want 2", n)
	}
}

// TestBrowserAdminDirectoryAddChoosesGroupsFromTheDirectory chooses the
// groups to sync on the add form from the list the directory has, as the
// edit form can, at phone and desktop widths with axe-core on each page.
func TestBrowserAdminDirectoryAddChoosesGroupsFromTheDirectory(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture+`dn: cn=contractors,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: contractors
member: uid=noa,ou=people,dc=example,dc=org

`)
	p := testkit.Serve(t)
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)

	fillDirectoryAddForm(b, srv, srv.URL, "")
	// Without the password the directory cannot be asked: said on the
	// field, nothing added.
	b.ClickAndWait("button[name=action][value=groups]")
	if got := b.Text("#password-error"); !strings.Contains(got, "Type the bind password, so that the portal can read") {
		t.Fatalf("password error %q", got)
	}
	b.SetValue("#password", srv.RootPW)
	b.ClickAndWait("button[name=action][value=groups]")
	if got := b.Text("[role=status]"); !strings.Contains(got, "These are the directory's groups") || !strings.Contains(got, "Type the bind password again") {
		t.Fatalf("notice %q", got)
	}
	if n := b.Count("#group-picker input[name=group]"); n != 2 {
		t.Fatalf("the picker lists %d groups, want contractors and staff", n)
	}
	if _, err := p.Store.DirectoryByName(context.Background(), "corp"); err == nil {
		t.Fatal("reading the groups added the directory")
	}
	b.Click(`input[name=group][value=contractors]`)
	b.SetValue("#password", srv.RootPW)
	b.ClickAndWait("button[name=action][value=add]")
	b.WaitLocation("/admin/directories/corp")
	d, err := p.Store.DirectoryByName(context.Background(), "corp")
	testkit.NoErr(t, err)
	if !strings.Contains(d.Config, `"groups":["contractors"]`) {
		t.Fatalf("the added directory's settings: %s", d.Config)
	}
	b.ClickAndWait(`form[action="/admin/directories/corp/test"] button`)
	if got := b.Text("[role=status]"); !strings.Contains(got, "1 user and 1 group") {
		t.Fatalf("test connection %q", got)
	}
}
