package admin_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestBrowserAdminPolicyCreateWebAppSignsInWithDuosNodeClient creates a web
// application on the admin pages in Chromium (at 360 px, axe-core on every
// page at phone and desktop widths), copies its credentials with the
// page's copy buttons, and signs a user in through it with Duo's own
// Node.js Universal Prompt client; the list then shows when it was used.
func TestBrowserAdminPolicyCreateWebAppSignsInWithDuosNodeClient(t *testing.T) {
	const callback = "https://payroll.example.com/duo-callback"
	p, files := testkit.ServeTLS(t)
	// Duo's client signs with the wall clock; run the portal's on it too.
	p.Clock.Set(time.Now())
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.AcceptTestCertificates(), testkit.WithViewport(testkit.Phone))
	browserSignIn(t, p, b, admin.RoleApplicationManager)

	b.Visit("/admin/applications")
	b.ClickAndWait(`main a[href="/admin/applications/new"]`)
	b.SetValue("#name", "Payroll")
	b.Click("#kind-web")
	b.SetValue("#redirect_uris", "http://payroll.example.com/duo-callback")
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("#redirect-error"); !strings.Contains(got, "must be an absolute https:// URL") {
		t.Fatalf("plain http redirect URI: %q", got)
	}
	b.SetValue("#redirect_uris", callback)
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("h1"); got != "Payroll" {
		t.Fatalf("after adding: %q", got)
	}
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the credentials page is %d px wide at 360 px", w)
	}

	// Copy each credential with its button, as an admin pasting them into
	// the application's configuration would. The clipboard is the edge of
	// the world here: the page's script hands it the text.
	testkit.Eval[bool](b, `(window.copied = [], Object.defineProperty(navigator, "clipboard", {value: {writeText: function (s) { window.copied.push(s); return Promise.resolve(); }}}), true)`)
	creds := map[string]string{}
	for _, name := range []string{"client_id", "client_secret", "api_host"} {
		b.Click(`button[data-copy-exact="cred-` + name + `"]`)
		creds[name] = testkit.Eval[string](b, `new Promise(function (ok) { setTimeout(function () { ok(window.copied[window.copied.length - 1] || ""); }, 50); })`)
	}
	if got := b.Text("#copy-status"); got != "Copied." {
		t.Errorf("copy status = %q", got)
	}
	if len(creds["client_id"]) != 20 || len(creds["client_secret"]) != 40 || "https://"+creds["api_host"] != p.URL {
		t.Fatalf("credentials copied from the page: %v", creds)
	}

	// Duo's client signs a user in through the new application. It signs
	// with the wall clock, and the browser steps above can take longer than
	// the portal's 60 s leeway on a loaded machine: catch the clock up.
	catchUpToWallClock(p)
	ctx := context.Background()
	now := p.Clock.Now()
	pat := store.User{Key: "DUPAT000000000000000", Username: "pat", Status: store.StatusBypass, CreatedAt: now, UpdatedAt: now}
	if err := p.Store.CreateUser(ctx, &pat); err != nil {
		t.Fatal(err)
	}
	node := testkit.NewDuoNodeClient(t, creds["client_id"], creds["client_secret"], creds["api_host"], callback, files.CAFile)
	var health struct {
		Stat string `json:"stat"`
	}
	if failed, msg := node.Call(&health, "health"); failed || health.Stat != "OK" {
		t.Fatalf("health check: %s %+v", msg, health)
	}
	authURL, browser := startPromptLogin(t, p, files, node, "pat")
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("authorize: %d %v, want the redirect to the application", resp.StatusCode, loc)
	}
	var token struct {
		PreferredUsername string `json:"preferred_username"`
		AuthResult        struct {
			Result string `json:"result"`
		} `json:"auth_result"`
		AuthContext struct {
			Application struct {
				Name string `json:"name"`
			} `json:"application"`
		} `json:"auth_context"`
	}
	catchUpToWallClock(p)
	if failed, msg := node.Call(&token, "exchange", loc.Query().Get("duo_code"), "pat"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "allow" || token.PreferredUsername != "pat" || token.AuthContext.Application.Name != "Payroll" {
		t.Fatalf("token = %+v", token)
	}

	// The list shows the application, with its last use.
	b.Visit("/admin/applications")
	row := b.Text("main table tbody tr")
	if !strings.Contains(row, "Payroll") || !strings.Contains(row, callback) || strings.Contains(row, "Never") {
		t.Fatalf("list row: %q", row)
	}

	// Edit, then delete by typing the name; each page checked.
	b.ClickAndWait(`main table a`)
	b.ClickAndWait(`main a[href$="/edit"]`)
	b.SetValue("#name", "Payroll (EU)")
	b.Click("#normalization-none")
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("h1"); got != "Payroll (EU)" {
		t.Fatalf("after saving: %q", got)
	}
	b.ClickAndWait(`main a[href$="/delete"]`)
	b.SetValue("#confirm_name", "Payroll")
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("main .notice.error"); !strings.Contains(got, "nothing was deleted") {
		t.Fatalf("wrong name: %q", got)
	}
	b.SetValue("#confirm_name", "Payroll (EU)")
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("main"); !strings.Contains(got, "There are no applications yet") {
		t.Fatalf("after deleting: %q", got)
	}
	if failed, _ := node.Call(&health, "health"); !failed {
		t.Fatal("the deleted application's credentials still pass the health check")
	}

	// A unix application's page carries a ready login_duo.conf.
	b.ClickAndWait(`main a[href="/admin/applications/new"]`)
	b.SetValue("#name", "SSH bastion")
	b.Click("#kind-unix")
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text("#unix-config"); !strings.HasPrefix(got, "[duo]\nikey = DI") || !strings.Contains(got, "\nhost = "+strings.TrimPrefix(p.URL, "https://")) {
		t.Fatalf("login_duo.conf on the page: %q", got)
	}
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the unix credentials page is %d px wide at 360 px", w)
	}
}

// TestBrowserAdminPolicyRevealAndRotateSecret: an owner shows an
// application's secret again with a code from their own authenticator app
// (a wrong code shows nothing), then rotates it; axe-core on every page at
// 360 px and desktop.
func TestBrowserAdminPolicyRevealAndRotateSecret(t *testing.T) {
	p := testkit.Serve(t)
	made, err := p.Apps.Create(context.Background(), apps.NewApp{Name: "VPN", Kind: store.AppAuthAPI}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	owner := browserSignIn(t, p, b, admin.RoleOwner)
	b.Visit("/admin/applications")
	b.ClickAndWait(`main table a`)
	if b.Count("#cred-skey") != 0 {
		t.Fatal("the secret is shown without a code")
	}
	b.SetValue("#code", "000000")
	b.ClickAndWait(`form[action$="/reveal"] button[type=submit]`)
	if got := b.Text("main .notice.error"); !strings.Contains(got, "The secret was not shown") || b.Count("#cred-skey") != 0 {
		t.Fatalf("wrong code: %q", got)
	}
	p.Clock.Advance(30 * time.Second)
	b.SetValue("#code", owner.Code(t, p.Clock.Now()))
	b.ClickAndWait(`form[action$="/reveal"] button[type=submit]`)
	if got := b.Text("#cred-skey"); got != made.ClientSecret {
		t.Fatalf("revealed %q", got)
	}

	b.Visit("/admin/applications/" + made.App.Key)
	b.ClickAndWait(`main a[href$="/rotate"]`)
	b.ClickAndWait("main button[type=submit]")
	rotated := b.Text("#cred-skey")
	if len(rotated) != 40 || rotated == made.ClientSecret {
		t.Fatalf("rotated secret %q", rotated)
	}
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the page is %d px wide at 360 px", w)
	}
	b.Reload()
	if b.Count("#cred-skey") != 0 {
		t.Fatal("the rotated secret is shown again on reload")
	}
}
