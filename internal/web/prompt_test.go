package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

const appCallback = "https://app.example.com/cb"

// promptHTTP is a served portal with one web application and its client,
// driven by a cookie-keeping HTTP client that does not follow redirects.
type promptHTTP struct {
	p      *testkit.Portal
	client *demoapp.Client
}

func newPromptHTTP(t *testing.T, opts ...testkit.Option) *promptHTTP {
	t.Helper()
	p := testkit.Serve(t, opts...)
	created, err := p.Apps.Create(context.Background(), apps.NewApp{
		Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{appCallback},
	}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	return &promptHTTP{p: p, client: &demoapp.Client{
		ClientID: created.ClientID, ClientSecret: created.ClientSecret, APIHost: u.Host, Scheme: "http",
		RedirectURI: appCallback, UseDuoCode: true, Now: p.Clock.Now,
	}}
}

// start sends c to authorize for username and returns the prompt's path.
func (h *promptHTTP) start(t *testing.T, c *testkit.Client, username string) string {
	t.Helper()
	authURL, err := h.client.AuthURL(username, demoapp.RandomString(36), "")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Get(authURL)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/prompt/") {
		t.Fatalf("authorize: %d %q", r.StatusCode, r.Location())
	}
	return r.Location()
}

// enrolledUser creates username with an activated tablet and returns its
// TOTP secret. The clock then moves on one step, so the next code is new.
func (h *promptHTTP) enrolledUser(t *testing.T, username string) string {
	t.Helper()
	ctx := context.Background()
	u, err := h.p.Users.Create(ctx, users.NewUser{Username: username}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	sub := enroll.Subject{User: u, Who: audit.CLI()}
	setup, err := h.p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, testkit.TOTPCode(t, setup.Secret, h.p.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	h.p.Clock.Advance(30 * time.Second)
	return setup.Secret
}

// callback checks that r sends the browser to the application and
// exchanges the code it carries for the verified result.
func (h *promptHTTP) callback(t *testing.T, r testkit.Response, username string) demoapp.Result {
	t.Helper()
	loc, err := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), appCallback+"?") {
		t.Fatalf("got %d to %q, want a redirect to the application", r.StatusCode, loc)
	}
	res, err := h.client.Exchange(context.Background(), loc.Query().Get("duo_code"), username, "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPromptPasscodeSignsInAnEnrolledUserOnce(t *testing.T) {
	h := newPromptHTTP(t)
	secret := h.enrolledUser(t, "alice")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "ALICE")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	page := c.Get(prompt + "/passcode")
	wantStatus(t, page, http.StatusOK, "Enter your passcode", "Payroll", `autocomplete="one-time-code"`)
	// The form's redirect back to the application must pass form-action.
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example.com;") {
		t.Errorf("passcode page CSP %q does not allow the redirect back to the application", csp)
	}
	code := testkit.TOTPCode(t, secret, h.p.Clock.Now())
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {code[:3] + " " + code[3:]}}), prompt+"/return")
	res := h.callback(t, c.Get(prompt+"/return"), "ALICE")
	if !res.Allowed() || res.AuthContext.Factor != "duo_mobile_passcode" || res.AuthContext.User.Name != "alice" || res.AuthContext.User.Key == "" {
		t.Fatalf("result %+v", res)
	}
	// The login is over: its pages are gone, and the same code does not
	// work for a second login.
	wantStatus(t, c.Get(prompt+"/return"), http.StatusNotFound, "This sign-in has ended")
	again := h.start(t, c, "alice")
	wantRedirect(t, c.Get(again), again+"/passcode")
	c.Get(again + "/passcode")
	wantStatus(t, c.Post(again+"/passcode", url.Values{"code": {code}}), http.StatusUnprocessableEntity, "9 tries left")
}

func TestPromptWrongPasscodesLockTheUserOutAndDeny(t *testing.T) {
	h := newPromptHTTP(t)
	h.enrolledUser(t, "bob")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "bob")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	c.Get(prompt + "/passcode")
	for i := 1; i < 10; i++ {
		wantStatus(t, c.Post(prompt+"/passcode", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity, "That code did not work")
	}
	wantStatus(t, c.Post(prompt+"/passcode", url.Values{"code": {"12ab"}}), http.StatusUnprocessableEntity, "6-digit code")
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {"000000"}}), prompt+"/done")
	wantStatus(t, c.Get(prompt+"/done"), http.StatusForbidden, "Access denied", "locked", "Return to Payroll")
	res := h.callback(t, c.Get(prompt+"/return"), "bob")
	if res.Allowed() || res.AuthContext.Reason != "locked_out" {
		t.Fatalf("result %+v, want a deny for lockout", res)
	}
	u, _ := h.p.Store.UserByUsername(context.Background(), "bob")
	if u.Status != store.StatusLockedOut {
		t.Fatalf("status %q, want locked out", u.Status)
	}
}

func TestPromptStopsAUserDisabledMidLogin(t *testing.T) {
	h := newPromptHTTP(t)
	secret := h.enrolledUser(t, "fay")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "fay")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	c.Get(prompt + "/passcode")
	u, _ := h.p.Store.UserByUsername(context.Background(), "fay")
	if err := h.p.Store.SetUserStatus(context.Background(), u.ID, store.StatusDisabled, true, h.p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {testkit.TOTPCode(t, secret, h.p.Clock.Now())}}), prompt+"/done")
	wantStatus(t, c.Get(prompt+"/done"), http.StatusForbidden, "Access denied", "disabled")
	if res := h.callback(t, c.Get(prompt+"/return"), "fay"); res.Allowed() || res.AuthContext.Reason != "user_disabled" {
		t.Fatalf("result %+v", res)
	}
}

func TestPromptDeniesASignInFromADeniedCountry(t *testing.T) {
	h := newPromptHTTP(t, testkit.WithGeoIP(testkit.WriteGeoIP(t, map[string]string{"127.0.0.0/8": "KP"})))
	ctx := context.Background()
	g, err := h.p.Store.GlobalPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.DeniedCountries = []string{"KP"}
	if err := h.p.Store.UpdatePolicy(ctx, g); err != nil {
		t.Fatal(err)
	}
	h.enrolledUser(t, "gus")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "gus")
	wantRedirect(t, c.Get(prompt), prompt+"/done")
	wantStatus(t, c.Get(prompt+"/done"), http.StatusForbidden, "Access denied", "Return to Payroll")
	// No passcode is asked for, however the browser tries.
	wantRedirect(t, c.Get(prompt+"/passcode"), prompt+"/done")
	res := h.callback(t, c.Get(prompt+"/return"), "gus")
	if res.Allowed() || res.AuthContext.Reason == "" {
		t.Fatalf("result %+v, want a deny with the policy's reason", res)
	}
}

func TestPromptBelongsToTheBrowserThatOpenedIt(t *testing.T) {
	h := newPromptHTTP(t)
	h.enrolledUser(t, "carol")
	first := testkit.NewClient(t, h.p)
	prompt := h.start(t, first, "carol")
	wantRedirect(t, first.Get(prompt), prompt+"/passcode")
	other := testkit.NewClient(t, h.p)
	wantStatus(t, other.Get(prompt), http.StatusForbidden, "opened elsewhere")
	wantStatus(t, other.Get(prompt+"/return"), http.StatusForbidden, "opened elsewhere")
	// A form post without the page's CSRF token changes nothing.
	r := first.Do(mustRequest(t, http.MethodPost, h.p.URL+prompt+"/passcode", "code=123456"))
	wantStatus(t, r, http.StatusForbidden)
}

func TestPromptExpires(t *testing.T) {
	h := newPromptHTTP(t)
	h.enrolledUser(t, "dan")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "dan")
	h.p.Clock.Advance(16 * time.Minute)
	wantStatus(t, c.Get(prompt), http.StatusNotFound, "This sign-in has ended", "sign in again")
	wantStatus(t, c.Get("/prompt/not-a-real-token-at-all-xxxxxxxx"), http.StatusNotFound, "This sign-in has ended")
}

func TestPromptInlineEnrollmentCreatesTheUserOnlyWhenTheyFinish(t *testing.T) {
	h := newPromptHTTP(t)
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, `EXAMPLE\Erin`)
	wantRedirect(t, c.Get(prompt), prompt+"/enroll")
	wantStatus(t, c.Get(prompt+"/enroll"), http.StatusOK, "Set up two-factor sign-in", "Payroll")
	wantRedirect(t, c.Post(prompt+"/enroll/choose", url.Values{"method": {"tablet"}}), prompt+"/enroll/platform")
	wantRedirect(t, c.Post(prompt+"/enroll/platform", url.Values{"platform": {store.PlatformAndroid}}), prompt+"/enroll/app")
	page := c.Get(prompt + "/enroll/app")
	if _, err := h.p.Store.UserByUsername(context.Background(), "erin"); err == nil {
		t.Fatal("the user exists before finishing enrollment")
	}
	// Skipping ahead to the verify step does nothing before enrolling.
	wantRedirect(t, c.Get(prompt+"/verify"), prompt+"/enroll")
	wantRedirect(t, c.Post(prompt+"/enroll/app", url.Values{"code": {codeAt(t, page.Body, h.p.Clock.Now())}}), prompt+"/enroll/done")
	wantStatus(t, c.Get(prompt+"/enroll/done"), http.StatusOK, prompt+"/verify")
	wantRedirect(t, c.Get(prompt+"/verify"), prompt)
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	wantStatus(t, c.Get(prompt+"/passcode"), http.StatusOK, "wait until the app shows a new code")
	h.p.Clock.Advance(30 * time.Second)
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {codeAt(t, page.Body, h.p.Clock.Now())}}), prompt+"/return")
	res := h.callback(t, c.Get(prompt+"/return"), `EXAMPLE\Erin`)
	if !res.Allowed() || res.AuthContext.User.Name != "erin" {
		t.Fatalf("result %+v", res)
	}
}

func mustRequest(t *testing.T, method, target, form string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, target, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
