package web_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// promptRig is a served portal and the demo application signing in through
// it, on two loopback ports, as in `make demo`.
type promptRig struct {
	p    *testkit.Portal
	demo string // http://localhost:PORT of the demo application
	app  store.Application
}

func newPromptRig(t *testing.T, newUserPolicy string, opts ...testkit.Option) *promptRig {
	t.Helper()
	p := testkit.Serve(t, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	demo := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	created, err := p.Apps.Create(context.Background(), apps.NewApp{
		Name: "Payroll", Kind: store.AppWeb, NewUserPolicy: newUserPolicy, RedirectURIs: []string{demo + "/callback"},
	}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	portal, _ := url.Parse(p.URL)
	client := &demoapp.Client{
		ClientID: created.ClientID, ClientSecret: created.ClientSecret, APIHost: portal.Host, Scheme: portal.Scheme,
		RedirectURI: demo + "/callback", UseDuoCode: true, Now: p.Clock.Now,
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{
		Handler: demoapp.NewServer(client, "Payroll", slog.New(slog.NewTextHandler(io.Discard, nil))).Handler(),
	}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &promptRig{p: p, demo: demo, app: created.App}
}

// signIn starts a sign-in at the demo application, which sends the browser
// to the portal.
func (r *promptRig) signIn(b *testkit.Browser, username string) {
	b.Visit(r.demo + "/")
	b.SendKeys("#username", username)
	b.Submit("#username")
}

// qrURL reads the QR code on the page as a phone's camera would: the
// image the browser shows, decoded.
func qrURL(t *testing.T, b *testkit.Browser) string {
	t.Helper()
	b64 := testkit.Eval[string](b, `fetch(document.querySelector("img.qr").src).then(r => r.arrayBuffer()).then(buf => {
  let s = ""; new Uint8Array(buf).forEach(x => s += String.fromCharCode(x)); return btoa(s);
})`)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.DecodeQRPNG(t, png)
}

func wantSignedIn(t *testing.T, b *testkit.Browser, username, factor string) {
	t.Helper()
	b.WaitVisible("#factor")
	if got := b.Text("h1"); got != "Welcome, "+username {
		t.Fatalf("demo application shows %q, want it signed in as %s (at %s)", got, username, b.Location())
	}
	if got := b.Text("#factor"); got != factor {
		t.Errorf("factor = %q, want %q", got, factor)
	}
	// The header names the application signed in to, and a long
	// transaction id wraps instead of pushing the page sideways.
	if got := b.Text("header"); !strings.HasPrefix(got, "Payroll") {
		t.Errorf("demo header = %q, want it to name Payroll", got)
	}
	width := testkit.Eval[int](b, `window.innerWidth`)
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > width {
		t.Errorf("signed-in page is %d px wide in a %d px window", w, width)
	}
}

func TestBrowserPromptEnrollsAnAuthenticatorAppInlineThenSignsInAgain(t *testing.T) {
	r := newPromptRig(t, store.NewUserRequireEnrollment)
	b := testkit.NewBrowser(t)
	r.signIn(b, "Alice")

	// An unknown user under require-enrollment is walked through the
	// enrollment steps, with the application named.
	if !strings.Contains(b.Location(), "/prompt/") || !strings.Contains(b.Text("main"), "Payroll") {
		t.Fatalf("expected inline enrollment naming the application, at %s: %s", b.Location(), b.Text("main"))
	}
	b.Click("input[value=tablet]")
	b.Submit("input[value=tablet]")
	b.Submit("input[name=platform]")
	otpauth := qrURL(t, b)
	if !strings.HasPrefix(otpauth, "otpauth://totp/") {
		t.Fatalf("QR code holds %q", otpauth)
	}
	// The code field submits itself at the sixth digit, as a phone's
	// keyboard would fill it.
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, r.p.Clock.Now()))
	if _, err := r.p.Store.UserByUsername(context.Background(), "alice"); err != nil {
		t.Fatalf("the user was not created when they finished: %v", err)
	}

	// Then they prove the new device with a fresh code, and are back at
	// the application, signed in.
	b.ClickAndWait("a[href$='/verify']")
	if !strings.Contains(b.Text("main"), "wait until the app shows a new code") {
		t.Errorf("passcode page after enrolling does not say to wait for a new code: %s", b.Text("main"))
	}
	r.p.Clock.Advance(30 * time.Second)
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, r.p.Clock.Now()))
	wantSignedIn(t, b, "Alice", "duo_mobile_passcode")

	// The second sign-in of the enrolled user asks for a passcode at once;
	// a wrong one says how many tries are left.
	b.Submit("button[type=submit]") // sign out
	r.signIn(b, "alice")
	if got := b.Text("h1"); got != "Enter your passcode" {
		t.Fatalf("second sign-in shows %q", got)
	}
	b.SendKeys("#code", "000000")
	if msg := b.Text("#code-error"); !strings.Contains(msg, "9 tries left") {
		t.Errorf("wrong code message = %q", msg)
	}
	r.p.Clock.Advance(30 * time.Second)
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, r.p.Clock.Now()))
	wantSignedIn(t, b, "alice", "duo_mobile_passcode")
}

func TestBrowserPromptEnrollsASecurityKeyInlineThenSignsInWithIt(t *testing.T) {
	r := newPromptRig(t, store.NewUserRequireEnrollment)
	b := testkit.NewBrowser(t, testkit.WithViewport(testkit.Phone))
	id := b.AddVirtualAuthenticator()
	r.signIn(b, "kim")
	b.Click("input[value=security_key]")
	b.Submit("input[value=security_key]")
	b.Click("#key-register")
	b.WaitVisible("a[href$='/verify']")
	if n := len(b.Credentials(id)); n != 1 {
		t.Fatalf("virtual key holds %d credentials, want 1", n)
	}
	b.ClickAndWait("a[href$='/verify']")
	if got := b.Text("h1"); got != "Use your security key" {
		t.Fatalf("after enrolling a key the prompt shows %q", got)
	}
	b.Click("#key-start")
	wantSignedIn(t, b, "kim", "webauthn_security_key")

	// Kim adds a tablet as a backup through an enrollment link; the next
	// sign-in then offers both methods.
	link, err := r.p.Enroll.IssueLink(context.Background(), "kim", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b.Visit(link.URL)
	// Kim already has a key, so the link asks her to use it first (the
	// new-factor rule).
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("a link of an enrolled user shows %q", got)
	}
	b.Click("#key-start")
	b.WaitVisible("input[value=tablet]")
	b.Click("input[value=tablet]")
	b.Submit("input[value=tablet]")
	b.Submit("input[name=platform]")
	b.SendKeys("#code", testkit.TOTPNow(t, qrURL(t, b), r.p.Clock.Now()))
	b.Visit(r.demo + "/")
	b.Submit("button[type=submit]") // sign out
	r.signIn(b, "kim")
	if got := b.Text("h1"); got != "Verify it's you" || b.Count("ul.methods a") != 2 {
		t.Fatalf("method picker: %q with %d methods", got, b.Count("ul.methods a"))
	}
	b.ClickAndWait("a[href$='/key']")
	b.Click("#key-start")
	wantSignedIn(t, b, "kim", "webauthn_security_key")

	keys, err := r.p.Store.SecurityKeysByUser(context.Background(), mustUserID(t, r.p, "kim"))
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil {
		t.Fatalf("security key use not recorded: %+v %v", keys, err)
	}
}

func TestBrowserPromptDeniesADisabledUserAndTellsTheApplication(t *testing.T) {
	r := newPromptRig(t, store.NewUserRequireEnrollment)
	ctx := context.Background()
	u := store.User{Key: "DUMALLORY00000000000", Username: "mallory", Status: store.StatusDisabled, CreatedAt: r.p.Clock.Now(), UpdatedAt: r.p.Clock.Now()}
	if err := r.p.Store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t)
	r.signIn(b, "mallory")
	if got := b.Text("h1"); got != "Access denied" {
		t.Fatalf("disabled user sees %q", got)
	}
	b.ClickAndWait("a[href$='/return']")
	if msg := b.Text("#demo-error"); !strings.Contains(msg, "denied") {
		t.Fatalf("the application shows %q, want the portal's denial", msg)
	}
}

func mustUserID(t *testing.T, p *testkit.Portal, username string) int64 {
	t.Helper()
	u, err := p.Store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
