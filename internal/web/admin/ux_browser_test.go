package admin_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestBrowserAdminTablesFitAPhone walks the pages whose tables scrolled
// sideways at 360 px (pending enrollments, outbox, admins, phones) with rows
// in them, at phone width, with axe-core on each.
func TestBrowserAdminTablesFitAPhone(t *testing.T) {
	p := testkit.Serve(t)
	ctx := context.Background()
	u := addUser(t, p, "maximilian.longname", "maximilian.longname@subsidiary.example.org", "Maximilian Longname")
	if _, err := p.Enroll.IssueLink(ctx, u.Username, 0, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: store.PhoneMobile, Number: "+12015550123", Platform: store.PlatformAndroid}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	p.AddAdminNamed(t, admin.RoleHelpDesk, "second.admin.with.a.long.address@example.org")
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	browserSignIn(t, p, b, admin.RoleOwner)
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	c.Get("/admin/users/" + u.Key)
	c.Post("/admin/users/"+u.Key+"/enrollment-email", nil)

	for _, path := range []string{"/admin/enrollments", "/admin/outbox", "/admin/admins", "/admin/users/" + u.Key + "/phones"} {
		b.Visit(path)
		if b.Count("table.stack tbody tr") == 0 {
			t.Fatalf("%s: no rows to show", path)
		}
		if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
			t.Fatalf("%s is %d px wide at 360 px", path, w)
		}
		if !strings.Contains(b.Text("main"), "maximilian") && path != "/admin/admins" {
			t.Fatalf("%s does not list the user", path)
		}
	}
}
