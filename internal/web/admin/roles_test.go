package admin_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	webadmin "enrollportal/internal/web/admin"
)

// adminSectionRoutes lists every route of the admin section in the router
// (the Admin API under /admin/v1 and /admin/v2 has its own signatures and
// grants and is not part of
// it), so that a route added later is covered without touching this test.
func adminSectionRoutes(t *testing.T, h http.Handler) []gin.RouteInfo {
	t.Helper()
	engine, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("the portal's handler is a %T, not the gin engine; this test walks its routes", h)
	}
	var out []gin.RouteInfo
	for _, r := range engine.Routes() {
		if (r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/")) && !strings.HasPrefix(r.Path, "/admin/v1/") && !strings.HasPrefix(r.Path, "/admin/v2/") {
			out = append(out, r)
		}
	}
	// Sign-out last: it ends the session the other checks use.
	sort.SliceStable(out, func(i, j int) bool { return out[j].Path == "/admin/signout" && out[i].Path != "/admin/signout" })
	if len(out) < 5 {
		t.Fatalf("only %d admin routes found", len(out))
	}
	return out
}

// concretePath fills a route's parameters with values that exist nowhere:
// the role check comes before any lookup, so the answer is 403 or not
// regardless.
func concretePath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "NOSUCHTHING0000000000000000"
		}
	}
	return strings.Join(parts, "/")
}

func TestAdminRoutesEnforceRoleMatrix(t *testing.T) {
	p := testkit.New(t)
	routes := adminSectionRoutes(t, p.Handler)
	for _, r := range routes {
		if _, _, declared := webadmin.RoutePermission(r.Method, r.Path); !declared {
			t.Errorf("%s %s has no declared permission: register it with adminHandle", r.Method, r.Path)
		}
	}
	// The applications pages, each with the permission the issue gives it:
	// every role views, Owners, Administrators and Application Managers
	// change, only Owners and Administrators reveal and rotate secrets.
	for route, want := range map[string]admin.Permission{
		"GET /admin/applications":              admin.ViewUsers,
		"GET /admin/applications/new":          admin.ManageApplications,
		"POST /admin/applications/new":         admin.ManageApplications,
		"GET /admin/applications/:key":         admin.ViewUsers,
		"GET /admin/applications/:key/edit":    admin.ManageApplications,
		"POST /admin/applications/:key/edit":   admin.ManageApplications,
		"POST /admin/applications/:key/reveal": admin.ApplicationSecrets,
		"GET /admin/applications/:key/rotate":  admin.ApplicationSecrets,
		"POST /admin/applications/:key/rotate": admin.ApplicationSecrets,
		"GET /admin/applications/:key/delete":  admin.ManageApplications,
		"POST /admin/applications/:key/delete": admin.ManageApplications,
		// Directories: every role views; Owners, Administrators and User
		// Managers manage.
		"GET /admin/directories":                admin.ViewUsers,
		"POST /admin/directories":               admin.ManageUsers,
		"GET /admin/directories/:name":          admin.ViewUsers,
		"GET /admin/directories/:name/progress": admin.ViewUsers,
		"POST /admin/directories/:name/test":    admin.ManageUsers,
		"POST /admin/directories/:name/preview": admin.ManageUsers,
		"POST /admin/directories/:name/sync":    admin.ManageUsers,
		"POST /admin/directories/:name/restore": admin.ManageUsers,
	} {
		method, path, _ := strings.Cut(route, " ")
		if perm, _, declared := webadmin.RoutePermission(method, path); !declared || perm != want {
			t.Errorf("%s: declared=%v with %q, want %q", route, declared, perm, want)
		}
	}
	if t.Failed() {
		return
	}

	// Anonymous: every non-public route sends the browser to sign in.
	anon := testkit.NewClient(t, p)
	anon.Get("/admin/signin")
	for _, r := range routes {
		if _, public, _ := webadmin.RoutePermission(r.Method, r.Path); public {
			continue
		}
		res := anon.Send(r.Method, concretePath(r.Path), strings.NewReader("csrf_token="+anon.CSRF()), "application/x-www-form-urlencoded")
		if res.StatusCode != http.StatusSeeOther || res.Location() != "/admin/signin" {
			t.Errorf("anonymous %s %s: %d %s, want 303 to /admin/signin", r.Method, r.Path, res.StatusCode, res.Location())
		}
	}

	type pass struct {
		role     string
		settings admin.Settings
	}
	var passes []pass
	for _, role := range admin.Roles {
		passes = append(passes, pass{role: role})
	}
	passes = append(passes, pass{role: admin.RoleHelpDesk, settings: admin.Settings{HelpDeskMaySend: true}})
	for i, ps := range passes {
		p.SaveSettings(t, org.Change{HelpDeskMaySend: &ps.settings.HelpDeskMaySend})
		a := p.AddAdminNamed(t, ps.role, ps.role+string(rune('a'+i))+"@example.org")
		c := p.SignIn(t, a)
		for _, r := range routes {
			perm, public, _ := webadmin.RoutePermission(r.Method, r.Path)
			if public {
				continue
			}
			c.Get("/admin") // a fresh CSRF token, and the session still alive
			res := c.Send(r.Method, concretePath(r.Path), strings.NewReader("csrf_token="+c.CSRF()), "application/x-www-form-urlencoded")
			allowed := admin.Can(ps.role, perm, ps.settings)
			switch {
			case allowed && res.StatusCode == http.StatusForbidden:
				t.Errorf("%s (%+v) %s %s: 403, but %s may", ps.role, ps.settings, r.Method, r.Path, perm)
			case allowed && res.StatusCode == http.StatusSeeOther && res.Location() == "/admin/signin" && r.Path != "/admin/signout":
				t.Errorf("%s %s %s: sent to sign in", ps.role, r.Method, r.Path)
			case !allowed && (res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "You do not have access")):
				t.Errorf("%s (%+v) %s %s: %d, want 403 (needs %s)", ps.role, ps.settings, r.Method, r.Path, res.StatusCode, perm)
			}
			if check := c.Get("/admin"); check.StatusCode != http.StatusOK {
				c = p.SignIn(t, a) // the route signed out, or deleted something of ours
			}
		}
	}
}

// TestAdminPostsRefuseMissingCSRF posts to every state-changing admin route
// as an owner without the token, then with another session's token: each is
// refused with 403 before anything happens.
func TestAdminPostsRefuseMissingCSRF(t *testing.T) {
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleOwner)
	other, _ := p.SignInAs(t, admin.RoleAdministrator)
	before, err := p.Store.SearchAudit(context.Background(), store.AuditFilter{Limit: 1})
	if err != nil || len(before) == 0 {
		t.Fatal(err)
	}
	posts := 0
	for _, r := range adminSectionRoutes(t, p.Handler) {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		for _, token := range []string{"", other.CSRF()} {
			res := c.Send(r.Method, concretePath(r.Path), strings.NewReader("csrf_token="+token), "application/x-www-form-urlencoded")
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", r.Path, token, res.StatusCode)
			}
		}
	}
	after, _ := p.Store.SearchAudit(context.Background(), store.AuditFilter{Limit: 1})
	if posts < 10 || after[0].ID != before[0].ID {
		t.Fatalf("%d posts checked; audit moved from %d to %d", posts, before[0].ID, after[0].ID)
	}
}
