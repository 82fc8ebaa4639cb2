package admin_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

var credRe = regexp.MustCompile(`<code id="cred-([a-z_]+)">([^<]*)</code>`)

// credentialsOn reads the credentials a page shows, by name.
func credentialsOn(body string) map[string]string {
	out := map[string]string{}
	for _, m := range credRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

func auditActionsOf(t *testing.T, p *testkit.Portal, key string) []string {
	t.Helper()
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetApplication, key, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func TestAdminApplicationsAddShowsCredentialsOnce(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleApplicationManager)
	if r := c.Get("/admin/applications"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "There are no applications yet") || !strings.Contains(r.Body, "Add an application") {
		t.Fatalf("empty list: %d", r.StatusCode)
	}
	if r := c.Get("/admin/applications/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `value="admin-api"`) {
		t.Fatalf("add form: %d", r.StatusCode)
	}
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"  "}, "kind": {"web"}}, "An application needs a name of 1 to 100 characters"},
		{url.Values{"name": {strings.Repeat("n", 101)}, "kind": {"web"}}, "An application needs a name of 1 to 100 characters"},
		{url.Values{"name": {"Tab\there"}, "kind": {"web"}}, "without tabs or other control characters"},
		{url.Values{"name": {"X"}, "kind": {"saml"}}, "The kind of application must be web, unix, auth-api or admin-api"},
		{url.Values{"name": {"X"}}, "The kind of application must be web, unix, auth-api or admin-api"},
		{url.Values{"name": {"X"}, "kind": {"web"}, "redirect_uris": {"https://ok.example/cb\nhttp://wiki.example.org/cb"}}, "must be an absolute https:// URL"},
		{url.Values{"name": {"X"}, "kind": {"unix"}, "redirect_uris": {"https://ok.example/cb"}}, "Only web applications have redirect URIs"},
		{url.Values{"name": {"X"}, "kind": {"unix"}, "grants": {"read-log"}}, "Only admin-api applications have grants"},
		{url.Values{"name": {"X"}, "kind": {"admin-api"}, "grants": {"everything"}}, "A grant must be one of read-resource, write-resource, read-log and settings"},
	}
	for _, b := range bad {
		r := c.Post("/admin/applications/new", b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(r.Body), b.want) || !strings.Contains(r.Body, "The application was not created") {
			t.Errorf("%v: %d, want 422 with %q", b.form, r.StatusCode, b.want)
		}
	}
	if list, _ := p.Store.Applications(ctx); len(list) != 0 {
		t.Fatalf("bad input created %d applications", len(list))
	}

	r := c.Post("/admin/applications/new", url.Values{"name": {" Wiki "}, "kind": {"web"},
		"redirect_uris": {"https://wiki.example.org/duo/callback\r\nhttp://localhost:3000/cb\r\n"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/admin/applications/DA") {
		t.Fatalf("add: %d %s", r.StatusCode, r.Location())
	}
	key := strings.TrimPrefix(r.Location(), "/admin/applications/")
	page := c.Get(r.Location())
	creds := credentialsOn(page.Body)
	if page.StatusCode != http.StatusOK || page.Header.Get("Cache-Control") != "no-store" || len(creds) != 3 || creds["api_host"] != strings.TrimPrefix(p.URL, "http://") {
		t.Fatalf("credentials page: %d %q %v", page.StatusCode, page.Header.Get("Cache-Control"), creds)
	}
	a, err := p.Apps.ByClientID(ctx, creds["client_id"])
	if err != nil || a.Key != key || a.Name != "Wiki" || len(a.RedirectURIs) != 2 {
		t.Fatalf("stored = %+v, %v", a, err)
	}
	if sec, _ := p.Apps.Secret(a); sec != creds["client_secret"] {
		t.Fatal("the page shows another secret than the stored one")
	}
	for _, want := range []string{"For a Universal Prompt client", "<code>https://wiki.example.org/duo/callback</code>", `data-copy-exact="cred-client_secret"`, "/assets/copy."} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("credentials page lacks %q", want)
		}
	}
	// Shown once: the same page again has no secret, and no reveal form for
	// an Application Manager.
	again := c.Get(r.Location())
	if creds := credentialsOn(again.Body); len(creds) != 2 || creds["client_secret"] != "" || strings.Contains(again.Body, "Show the secret") {
		t.Fatalf("second visit shows %v", creds)
	}
	list := c.Get("/admin/applications")
	for _, want := range []string{"Wiki", "Web (Universal Prompt)", "Inherited (global policy)", "Everyone", "https://wiki.example.org/duo/callback", "Never"} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if acts := auditActionsOf(t, p, key); len(acts) != 1 || acts[0] != audit.ApplicationCreated {
		t.Errorf("audit = %v", acts)
	}

	// An Admin API application with its grants.
	r = c.Post("/admin/applications/new", url.Values{"name": {"Directory sync"}, "kind": {"admin-api"}, "grants": {"read-resource", "read-log"}})
	page = c.Get(r.Location())
	if creds := credentialsOn(page.Body); len(creds) != 3 || creds["skey"] == "" || !strings.Contains(page.Body, "<dt>Admin API grants</dt><dd>read-resource, read-log</dd>") {
		t.Errorf("admin-api page: %v", creds)
	}
	if a, _ := p.Apps.ByClientID(ctx, credentialsOn(page.Body)["ikey"]); len(a.AdminGrants) != 2 {
		t.Errorf("stored grants = %v", a.AdminGrants)
	}

	// A unix application gets a ready login_duo.conf.
	r = c.Post("/admin/applications/new", url.Values{"name": {"Bastion"}, "kind": {"unix"}})
	page = c.Get(r.Location())
	creds = credentialsOn(page.Body)
	want := "[duo]\nikey = " + creds["ikey"] + "\nskey = " + creds["skey"] + "\nhost = " + creds["api_host"] + "\nfailmode = secure\n"
	if len(creds) != 3 || !strings.Contains(page.Body, `<pre id="unix-config" tabindex="0">`+want+`</pre>`) {
		t.Errorf("unix page: %v\n%s", creds, page.Body)
	}
}

func TestAdminApplicationsEdit(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	made, err := p.Apps.Create(ctx, apps.NewApp{Name: "Wiki", Kind: "web", RedirectURIs: []string{"https://wiki.example.org/cb"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/applications/" + made.App.Key + "/edit"
	if r := c.Get(path); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "https://wiki.example.org/cb</textarea>") || !strings.Contains(r.Body, `value="simple" checked`) {
		t.Fatalf("edit form: %d", r.StatusCode)
	}
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {""}, "username_normalization": {"simple"}}, "An application needs a name"},
		{url.Values{"name": {"Wiki"}, "username_normalization": {"lower"}}, "Username normalization must be none or simple"},
		{url.Values{"name": {"Wiki"}, "username_normalization": {"none"}, "redirect_uris": {"https://a.example/cb#x"}}, "without a #fragment"},
	}
	for _, b := range bad {
		r := c.Post(path, b.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) || !strings.Contains(r.Body, "Nothing was saved") {
			t.Errorf("%v: %d, want 422 with %q", b.form, r.StatusCode, b.want)
		}
	}
	if a, _ := p.Apps.ByKey(ctx, made.App.Key); a.Name != "Wiki" || a.UsernameNormalization != "simple" {
		t.Fatalf("a refused edit changed %+v", a)
	}
	r := c.Post(path, url.Values{"name": {"Team wiki"}, "username_normalization": {"none"}, "redirect_uris": {"https://wiki.example.org/cb2"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/applications/"+made.App.Key {
		t.Fatalf("save: %d %s", r.StatusCode, r.Location())
	}
	// The login path sees the change at once (no restart).
	a, err := p.Apps.ByClientID(ctx, made.ClientID)
	if err != nil || a.Name != "Team wiki" || a.UsernameNormalization != "none" || a.RedirectURIs[0] != "https://wiki.example.org/cb2" {
		t.Fatalf("after the save: %+v, %v", a, err)
	}
	if acts := auditActionsOf(t, p, made.App.Key); len(acts) != 2 || acts[0] != audit.ApplicationUpdated {
		t.Errorf("audit = %v", acts)
	}
	if r := c.Post("/admin/applications/DANOSUCH/edit", url.Values{"name": {"X"}, "username_normalization": {"none"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("edit of an unknown application: %d", r.StatusCode)
	}
}

func TestAdminApplicationsRevealRotateDelete(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, owner := p.SignInAs(t, admin.RoleOwner)
	made, err := p.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: "auth-api"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/applications/" + made.App.Key
	page := c.Get(base)
	if !strings.Contains(page.Body, "Show the secret again") || credentialsOn(page.Body)["skey"] != "" {
		t.Fatalf("owner's view: %v", credentialsOn(page.Body))
	}

	// Reveal: a wrong code shows nothing; a current one shows the secret.
	r := c.Post(base+"/reveal", url.Values{"code": {"000000"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "The secret was not shown") || credentialsOn(r.Body)["skey"] != "" {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	p.Clock.Advance(30 * time.Second)
	r = c.Post(base+"/reveal", url.Values{"code": {owner.Code(t, p.Clock.Now())}})
	if r.StatusCode != http.StatusOK || credentialsOn(r.Body)["skey"] != made.ClientSecret || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d %v", r.StatusCode, credentialsOn(r.Body))
	}
	if acts := auditActionsOf(t, p, made.App.Key); len(acts) != 2 || acts[0] != audit.ApplicationSecretRevealed {
		t.Errorf("audit after reveal = %v", acts)
	}

	// Rotate: confirm, the new secret once, the old one dead.
	if r := c.Get(base + "/rotate"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "stops working at once") {
		t.Fatalf("rotate confirm: %d", r.StatusCode)
	}
	r = c.Post(base+"/rotate", nil)
	if r.StatusCode != http.StatusSeeOther || r.Location() != base {
		t.Fatalf("rotate: %d %s", r.StatusCode, r.Location())
	}
	fresh := credentialsOn(c.Get(base).Body)["skey"]
	a, _ := p.Apps.ByClientID(ctx, made.ClientID)
	if sec, _ := p.Apps.Secret(a); fresh == "" || fresh == made.ClientSecret || sec != fresh {
		t.Fatalf("rotated secret shown %q, stored %q, old %q", fresh, sec, made.ClientSecret)
	}
	if credentialsOn(c.Get(base).Body)["skey"] != "" {
		t.Fatal("the rotated secret is shown twice")
	}

	// Delete: the name must be typed.
	if r := c.Get(base + "/delete"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "type the application's name: VPN") {
		t.Fatalf("delete confirm: %d", r.StatusCode)
	}
	r = c.Post(base+"/delete", url.Values{"confirm_name": {"vpn"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "The name typed is not the application&#39;s name; nothing was deleted.") {
		t.Fatalf("wrong name: %d", r.StatusCode)
	}
	if _, err := p.Apps.ByKey(ctx, made.App.Key); err != nil {
		t.Fatal("a wrong name deleted the application")
	}
	r = c.Post(base+"/delete", url.Values{"confirm_name": {"VPN"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/applications" {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Location())
	}
	if _, err := p.Apps.ByClientID(ctx, made.ClientID); err == nil {
		t.Fatal("the login path still finds the deleted application")
	}
	acts := auditActionsOf(t, p, made.App.Key)
	if len(acts) != 4 || acts[0] != audit.ApplicationDeleted || acts[1] != audit.ApplicationSecretRotated {
		t.Errorf("audit = %v", acts)
	}
	for _, path := range []string{base, base + "/edit", base + "/rotate", base + "/delete"} {
		if r := c.Get(path); r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, "No such application") {
			t.Errorf("GET %s after delete: %d", path, r.StatusCode)
		}
	}
	for _, path := range []string{base + "/reveal", base + "/rotate", base + "/delete"} {
		if r := c.Post(path, url.Values{"code": {"123456"}, "confirm_name": {"VPN"}}); r.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s after delete: %d", path, r.StatusCode)
		}
	}
}

// TestAdminApplicationsByRole: what each role sees and may do on the pages
// (the matrix test checks every route's 403; this checks the pages offer
// only what the role may do).
func TestAdminApplicationsByRole(t *testing.T) {
	p := testkit.New(t)
	made, err := p.Apps.Create(context.Background(), apps.NewApp{Name: "VPN", Kind: store.AppUnix}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/applications/" + made.App.Key
	for _, tc := range []struct {
		role            string
		manage, secrets bool
	}{
		{admin.RoleOwner, true, true},
		{admin.RoleAdministrator, true, true},
		{admin.RoleApplicationManager, true, false},
		{admin.RoleUserManager, false, false},
		{admin.RoleHelpDesk, false, false},
		{admin.RoleReadOnly, false, false},
	} {
		c, _ := p.SignInAs(t, tc.role)
		list := c.Get("/admin/applications")
		page := c.Get(base)
		if list.StatusCode != http.StatusOK || page.StatusCode != http.StatusOK || !strings.Contains(list.Body, "VPN") || credentialsOn(page.Body)["ikey"] != made.ClientID {
			t.Errorf("%s: list %d, page %d", tc.role, list.StatusCode, page.StatusCode)
		}
		if got := strings.Contains(list.Body, "Add an application"); got != tc.manage {
			t.Errorf("%s: add offered = %v", tc.role, got)
		}
		if got := strings.Contains(page.Body, base+"/edit"); got != tc.manage {
			t.Errorf("%s: edit offered = %v", tc.role, got)
		}
		if got := strings.Contains(page.Body, base+"/reveal") && strings.Contains(page.Body, base+"/rotate"); got != tc.secrets {
			t.Errorf("%s: reveal and rotate offered = %v", tc.role, got)
		}
		if !tc.secrets {
			if r := c.Post(base+"/reveal", url.Values{"code": {"123456"}}); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s: reveal answered %d", tc.role, r.StatusCode)
			}
		}
	}
}
