package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// browserCheckAccess asks the Check access page what username gets in
// app, and returns the decision and the reason it shows.
func browserCheckAccess(t *testing.T, b *testkit.Browser, username string, app store.Application) (string, string) {
	t.Helper()
	b.Visit("/admin/check-access")
	b.SetValue("#username", username)
	b.SetValue("#application", strconv.FormatInt(app.ID, 10))
	b.ClickAndWait("main form button[type=submit]")
	return b.Text("#check-decision"), b.Text("#check-result")
}

// TestBrowserAdminPolicyRestrictUnixAppToGroupRefusesLoginDuo restricts a
// unix application to a group on its access page (phone width, axe-core
// on every page at phone and desktop widths): the preview names the user
// outside the group, Check access then says deny, and the real login_duo
// run as that user is refused, where it let them in before.
func TestBrowserAdminPolicyRestrictUnixAppToGroupRefusesLoginDuo(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "SSH bastion", Kind: store.AppUnix}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	g := store.Group{Key: "DGSSHADMINS000000000", Name: "ssh-admins", CreatedAt: p.Clock.Now()}
	if err := p.Store.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	alice := addUser(t, p, "alice", "", "")
	if err := p.Store.AddUserToGroup(ctx, alice.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	// The unix account login_duo runs for, allowed in without a factor
	// (bypass) so that the only thing that changes is the group rule.
	outsider := addUser(t, p, testkit.LoginDuoUser, "", "")
	if err := p.Store.SetUserStatus(ctx, outsider.ID, store.StatusBypass, false, p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	ld := testkit.NewLoginDuo(t, created.ClientID, created.ClientSecret, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure")
	if exit, out := ld.Start(t).Wait(); exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("before the change login_duo: exit %d, %q", exit, out)
	}

	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.AcceptTestCertificates(), testkit.WithViewport(testkit.Phone))
	browserSignIn(t, p, b, admin.RoleApplicationManager)
	if decision, _ := browserCheckAccess(t, b, testkit.LoginDuoUser, created.App); decision != "allow" {
		t.Fatalf("Check access before the change: %q", decision)
	}

	b.Visit("/admin/applications/" + created.App.Key)
	b.ClickAndWait(`main a[href="/admin/applications/` + created.App.Key + `/access"]`)
	b.Click(`input[name=restricted][value=yes]`)
	b.Click(`input[name=groups][value="` + strconv.FormatInt(g.ID, 10) + `"]`)
	b.ClickAndWait(`form:has(input[name=kind][value=app-groups]) button[type=submit]`)
	preview := b.Text("main")
	if !strings.Contains(preview, "1 user of SSH bastion: allow -> deny (not in permitted groups): daemon") || strings.Contains(preview, "alice") {
		t.Fatalf("preview:\n%s", preview)
	}
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the preview is %d px wide at 360 px", w)
	}
	b.ClickAndWait(`main form button[type=submit]`)
	if got := b.Text("main"); !strings.Contains(got, "The access settings of SSH bastion were saved") || !strings.Contains(got, "Only members of these groups") {
		t.Fatalf("after saving:\n%s", got)
	}

	decision, result := browserCheckAccess(t, b, testkit.LoginDuoUser, created.App)
	if decision != "deny" || !strings.Contains(result, "not in permitted groups") || !strings.Contains(result, "You are not allowed to use SSH bastion") {
		t.Fatalf("Check access after the change: %q\n%s", decision, result)
	}
	// The real login does what Check access said.
	exit, out := ld.Start(t).Wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "You are not allowed to use SSH bastion") {
		t.Fatalf("after the change login_duo: exit %d, %q", exit, out)
	}
	if decision, _ := browserCheckAccess(t, b, "alice", created.App); decision != "enroll" {
		t.Fatalf("Check access for a member: %q", decision)
	}
}

var returnLink = regexp.MustCompile(`href="([^"]+/return)"`)

// TestBrowserAdminPolicyDenyNewUsersOnThePage creates a policy that denies
// new users and gives it to a web application on its access page: the
// preview names the user who has not enrolled, Check access says deny for
// someone new, and Duo's Node.js client then gets deny with the reason for
// a new user's sign-in, whose page shows the same message.
func TestBrowserAdminPolicyDenyNewUsersOnThePage(t *testing.T) {
	const callback = "https://wiki.example.com/duo-callback"
	p, files := testkit.ServeTLS(t)
	// Duo's client signs with the wall clock; run the portal's on it too.
	p.Clock.Set(time.Now())
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "Wiki", Kind: store.AppWeb, RedirectURIs: []string{callback}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	addUser(t, p, "nina", "", "")

	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.AcceptTestCertificates(), testkit.WithViewport(testkit.Phone))
	browserSignIn(t, p, b, admin.RoleAdministrator)
	b.ClickAndWait(`a[href="/admin/policies"]`)
	b.SetValue("#name", "No new users")
	b.Click(`input[name=new_user_policy][value=deny]`)
	b.ClickAndWait(`form[action="/admin/policies"] button[type=submit]`)
	if got := b.Text("h1"); got != "Policy No new users" {
		t.Fatalf("after creating: %q", got)
	}
	// The country list filters as the admin types.
	b.SendKeys("#country-filter", "korea")
	if n := testkit.Eval[int](b, `document.querySelectorAll("#country-list label:not([hidden])").length`); n != 2 {
		t.Fatalf("%d countries match \"korea\"", n)
	}

	b.Visit("/admin/applications/" + created.App.Key + "/access")
	cfg, err := p.Policy.LoadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range cfg.Policies {
		if pol.Name == "No new users" {
			b.SetValue("#policy", strconv.FormatInt(pol.ID, 10))
		}
	}
	b.ClickAndWait(`form:has(input[name=kind][value=app-policy]) button[type=submit]`)
	preview := b.Text("main")
	if !strings.Contains(preview, "1 user of Wiki: enroll -> deny (not enrolled, new user policy deny): nina") ||
		!strings.Contains(preview, "Wiki: enroll -> deny") {
		t.Fatalf("preview:\n%s", preview)
	}
	b.ClickAndWait(`main form button[type=submit]`)
	if got := b.Text("main"); !strings.Contains(got, "The access settings of Wiki were saved") {
		t.Fatalf("after saving:\n%s", got)
	}
	// Enrollment progress: nina is left to enroll in Wiki, one click away.
	b.ClickAndWait(`a[href="/admin/enrollment-progress"]`)
	b.ClickAndWait(`a[href="/admin/enrollment-progress/users?application=` + created.App.Key + `"]`)
	if got := b.Text("main"); !strings.Contains(got, "nina") || !strings.Contains(got, "Send enrollment emails") {
		t.Fatalf("left to enroll:\n%s", got)
	}
	decision, result := browserCheckAccess(t, b, "newcomer", created.App)
	if decision != "deny" || !strings.Contains(result, "application") || !strings.Contains(result, "not enrolled, new user policy deny") {
		t.Fatalf("Check access: %q\n%s", decision, result)
	}

	// A new user signs in through Duo's client: the portal shows why, and
	// returning delivers deny with the reason.
	// The browser steps above can outlast the portal's 60 s clock leeway on
	// a loaded machine; Duo's client signs with the wall clock.
	catchUpToWallClock(p)
	node := testkit.NewDuoNodeClient(t, created.ClientID, created.ClientSecret, strings.TrimPrefix(p.URL, "https://"), callback, files.CAFile)
	authURL, client := startPromptLogin(t, p, files, node, "newcomer")
	get := func(u string) (*http.Response, string) {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	resp, page := get(authURL)
	m := returnLink.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Access denied") ||
		!strings.Contains(page, "You are not enrolled in two-factor authentication, and Wiki requires it") || m == nil {
		t.Fatalf("prompt page: %d\n%s", resp.StatusCode, page)
	}
	ret := m[1]
	if strings.HasPrefix(ret, "/") {
		ret = p.URL + ret
	}
	resp, _ = get(ret)
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("return: %d %v", resp.StatusCode, loc)
	}
	var token struct {
		AuthResult struct {
			Result string `json:"result"`
		} `json:"auth_result"`
		AuthContext struct {
			Reason string `json:"reason"`
		} `json:"auth_context"`
	}
	if failed, msg := node.Call(&token, "exchange", loc.Query().Get("duo_code"), "newcomer"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "deny" || token.AuthContext.Reason != "new_user_denied" {
		t.Fatalf("token = %+v", token)
	}
}

// startPromptLogin asks Duo's Node.js client for the prompt address of a
// login of username, and gives a browser-like HTTP client (cookies, the
// portal's redirects followed, the application's not) to walk it.
func startPromptLogin(t *testing.T, p *testkit.Portal, files testkit.TLSFiles, node *testkit.DuoNodeClient, username string) (string, *http.Client) {
	t.Helper()
	var auth struct {
		URL string `json:"url"`
	}
	if failed, msg := node.Call(&auth, "authurl", username, strings.Repeat("s", 36)); failed {
		t.Fatal(msg)
	}
	jar, _ := cookiejar.New(nil)
	client := files.Client()
	client.Jar = jar
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if "https://"+r.URL.Host != p.URL {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return auth.URL, client
}
