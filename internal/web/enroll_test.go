package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// newLink creates alice and a link for her, returning the link's path.
func newLink(t *testing.T, p *testkit.Portal) string {
	t.Helper()
	ctx := context.Background()
	if _, err := p.Users.Create(ctx, users.NewUser{Username: "Alice", Email: "alice@example.com"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	l, err := p.Enroll.IssueLink(ctx, "alice", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(l.URL, p.URL)
}

var setupKey = regexp.MustCompile(`id="setup-key">([A-Z2-7 ]+)<`)

func codeAt(t *testing.T, page string, at time.Time) string {
	t.Helper()
	m := setupKey.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no setup key on the page:\n%s", page)
	}
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(m[1], " ", ""), at, totp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func wantStatus(t *testing.T, r testkit.Response, status int, contains ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	for _, s := range contains {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL.Path, s, r.Body)
		}
	}
}

func wantRedirect(t *testing.T, r testkit.Response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Location() != to {
		t.Fatalf("%s %s: got %d to %q, want 303 to %q\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Location(), to, r.Body)
	}
}

// startMobile walks a client from the welcome page to the QR page of a
// mobile phone and returns that page.
func startMobile(t *testing.T, c *testkit.Client, link string) testkit.Response {
	t.Helper()
	wantStatus(t, c.Get(link), http.StatusOK, "Set up two-factor sign-in", `name="csrf_token"`)
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), link+"/phone")
	wantStatus(t, c.Get(link+"/phone"), http.StatusOK, "Mobile number")
	wantRedirect(t, c.Post(link+"/phone", url.Values{"country": {"US"}, "number": {"(201) 555-0123"}}), link+"/platform")
	wantStatus(t, c.Get(link+"/platform"), http.StatusOK, "1 201-555-0123", "iPhone")
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformIOS}}), link+"/app")
	page := c.Get(link + "/app")
	wantStatus(t, page, http.StatusOK, "App Store", link+"/app/qr.png", "otpauth://totp/Example%20Org:", "?secret=", "&amp;issuer=Example%20Org&amp;algorithm=SHA1&amp;digits=6&amp;period=30")
	return page
}

func TestEnrollLandingPageCarriesCSRFAndSecurityHeaders(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	r := testkit.NewClient(t, p).Get(link)
	wantStatus(t, r, http.StatusOK, `name="csrf_token"`, "Example Org", "Hello alice")
	for header, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := r.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", header, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("weak CSP %q", csp)
	}
	cookie := r.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("session cookie %q lacks HttpOnly or SameSite=Lax", cookie)
	}
	if strings.Contains(p.Logs.String(), strings.TrimPrefix(link, "/enroll/")) {
		t.Error("the request log contains the enrollment token")
	}
}

func TestEnrollMobilePhoneEndToEnd(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)

	qr := c.Get(link + "/app/qr.png")
	wantStatus(t, qr, http.StatusOK)
	if qr.Header.Get("Content-Type") != "image/png" || qr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR headers: %v", qr.Header)
	}

	// Nothing counts as enrolled before the code.
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	if f, _ := p.Enroll.FactorsOf(context.Background(), u.ID); f.Any() {
		t.Fatal("enrolled before proving a code")
	}

	wrong := c.Post(link+"/app", url.Values{"code": {"000000"}})
	wantStatus(t, wrong, http.StatusUnprocessableEntity, "That code did not work", "9 tries left", `aria-invalid="true"`)

	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	done := c.Get(link + "/done")
	// The person who typed the number sees it in full.
	wantStatus(t, done, http.StatusOK, "You are set up", "Mobile phone", "Apple iOS", "1 201-555-0123", "Add another device")

	f, _ := p.Enroll.FactorsOf(context.Background(), u.ID)
	if !f.Any() || len(f.Phones) != 1 || f.Phones[0].Number != "+12015550123" || f.Phones[0].Type != store.PhoneMobile {
		t.Fatalf("factors after enrollment: %+v", f)
	}
	u, _ = p.Store.UserByUsername(context.Background(), "alice")
	if u.FailedAttempts != 0 {
		t.Errorf("failures not reset after a correct code: %d", u.FailedAttempts)
	}

	// The link is used up, but this browser may add another device.
	wantStatus(t, c.Get(link+"/choose"), http.StatusOK, "Add a device")
	wantStatus(t, testkit.NewClient(t, p).Get(link), http.StatusGone, "already been used")

	entries, _ := p.Store.AuditForTarget(context.Background(), audit.TargetUser, "alice", 50)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.EnrollmentStarted, audit.EnrollmentCodeFailed, audit.PhoneActivated, audit.EnrollmentLinkUsed} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func TestEnrollTabletNeedsNoNumber(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	c.Get(link)
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"tablet"}}), link+"/platform")
	wantStatus(t, c.Get(link+"/platform"), http.StatusOK, "iPad")
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformAndroid}}), link+"/app")
	page := c.Get(link + "/app")
	wantStatus(t, page, http.StatusOK, "Google Play")
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	f, _ := p.Enroll.FactorsOf(context.Background(), u.ID)
	if len(f.Phones) != 1 || f.Phones[0].Type != store.PhoneTablet || f.Phones[0].Number != "" {
		t.Fatalf("tablet: %+v", f.Phones)
	}
}

func TestEnrollCodeWindowReplayAndStaleness(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)

	// A code from two steps ago is stale.
	stale := codeAt(t, page.Body, p.Clock.Now().Add(-61*time.Second))
	wantStatus(t, c.Post(link+"/app", url.Values{"code": {stale}}), http.StatusUnprocessableEntity, "That code did not work")

	// One step either side is accepted (the phone's clock may be off).
	early := codeAt(t, page.Body, p.Clock.Now().Add(30*time.Second))
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {early}}), link+"/done")

	// The same code cannot be used again: not for this set-up (the form
	// sent again only shows that the device is set up)...
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {early}}), link+"/done")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	phones, _ := p.Store.PhonesByUser(context.Background(), u.ID)
	if len(phones) != 1 {
		t.Fatalf("a used code was accepted twice: %d phones", len(phones))
	}
	// ...nor at login, where the phone's last step is already past it.
	secret, _ := p.Enroll.OpenPhoneSecret(phones[0])
	if _, ok := verify.MatchTOTP(secret, early, p.Clock.Now(), phones[0].LastTOTPStep); ok {
		t.Fatal("the enrollment code would be accepted again at login")
	}
}

func TestEnrollLockoutAfterTenWrongCodes(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	for i := 1; i < verify.MaxFailures; i++ {
		wantStatus(t, c.Post(link+"/app", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity)
	}
	last := c.Post(link+"/app", url.Values{"code": {"000000"}})
	wantStatus(t, last, http.StatusForbidden, "Your account is locked", "help desk")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	if u.Status != store.StatusLockedOut {
		t.Fatalf("status %s after %d failures", u.Status, verify.MaxFailures)
	}
	// Even the right code does nothing now, and the link says why.
	wantStatus(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), http.StatusForbidden, "locked")
	wantStatus(t, testkit.NewClient(t, p).Get(link), http.StatusForbidden, "locked")
	if f, _ := p.Enroll.FactorsOf(context.Background(), u.ID); f.Any() {
		t.Fatal("a locked-out user got a device")
	}
}

func TestEnrollBadInputChangesNothing(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	c.Get(link)
	wantStatus(t, c.Post(link+"/choose", url.Values{"method": {"landline"}}), http.StatusBadRequest, "Choose the kind of device")
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), link+"/phone")
	for _, tc := range []struct{ country, number, want string }{
		{"US", "12", "does not look like a mobile number"},
		{"US", "not a number", "does not look like a mobile number"},
		{"XX", "2015550123", "Choose your country"},
		{"US", strings.Repeat("9", 5000), "does not look like a mobile number"},
	} {
		r := c.Post(link+"/phone", url.Values{"country": {tc.country}, "number": {tc.number}})
		wantStatus(t, r, http.StatusBadRequest, tc.want, `aria-invalid="true"`)
		if strings.Contains(r.Body, strings.Repeat("9", 100)) {
			t.Error("an oversized number is echoed back in full")
		}
	}
	// Platform and code steps cannot be reached without the earlier steps.
	wantRedirect(t, c.Get(link+"/platform"), link+"/choose")
	wantRedirect(t, c.Get(link+"/app"), link+"/choose")
	// An oversized body is refused outright.
	r := c.Post(link+"/phone", url.Values{"country": {"US"}, "number": {strings.Repeat("1", 100<<10)}})
	if r.StatusCode < 400 || r.StatusCode == http.StatusInternalServerError {
		t.Fatalf("oversized body: status %d", r.StatusCode)
	}
	wantStatus(t, c.Get(link+"/phone"), http.StatusOK)
	// A malformed code does not count as a wrong guess.
	startMobile(t, c, link)
	wantStatus(t, c.Post(link+"/app", url.Values{"code": {"12ab"}}), http.StatusBadRequest, "Enter the 6-digit code")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	if u.FailedAttempts != 0 {
		t.Fatalf("a malformed code counted as a failure")
	}
	if n := testkit.Got(p.Store.CountUsers(context.Background())).Must(t); n != 1 {
		t.Fatalf("users: %d", n)
	}
}

func TestEnrollFormsRefuseMissingOrWrongCSRF(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	c.Get(link)
	for _, token := range []string{"", "wrong-token"} {
		r := c.Post(link+"/choose", url.Values{"method": {"mobile"}, "csrf_token": {token}})
		wantStatus(t, r, http.StatusForbidden, "This form has expired")
	}
	// A token from another browser's session does not work either.
	other := testkit.NewClient(t, p)
	other.Get(link)
	r := c.Post(link+"/choose", url.Values{"method": {"mobile"}, "csrf_token": {other.CSRF()}})
	wantStatus(t, r, http.StatusForbidden)

	// A refused form changes nothing: no set-up is started, no step reached.
	c.Get(link)
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"tablet"}}), link+"/platform")
	wantStatus(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformIOS}, "csrf_token": {"forged"}}), http.StatusForbidden)
	var challenges int
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM enrollment_challenges`).Scan(&challenges)
	if challenges != 0 {
		t.Fatalf("a forged form started %d set-ups", challenges)
	}
	wantRedirect(t, c.Get(link+"/app"), link+"/choose")
}

func TestEnrollLinkStates(t *testing.T) {
	ctx := context.Background()
	p := testkit.Serve(t)
	old := newLink(t, p)
	fresh, err := p.Enroll.IssueLink(ctx, "alice", 0, audit.CLI())
	if err != nil || fresh.Revoked != 1 {
		t.Fatalf("second link: revoked=%d err=%v", fresh.Revoked, err)
	}
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get(old), http.StatusGone, "no longer valid")
	wantStatus(t, c.Get(strings.TrimPrefix(fresh.URL, p.URL)), http.StatusOK)
	wantStatus(t, c.Get("/enroll/"+strings.Repeat("A", 43)), http.StatusNotFound, "does not work")
	wantStatus(t, c.Get("/enroll/x"), http.StatusNotFound)

	p.Clock.Advance(enroll.LinkTTL)
	wantStatus(t, c.Get(strings.TrimPrefix(fresh.URL, p.URL)), http.StatusGone, "expired")

	// A deleted user's links go with them.
	bob, _ := p.Users.Create(ctx, users.NewUser{Username: "bob"}, audit.CLI())
	bl, _ := p.Enroll.IssueLink(ctx, "bob", 0, audit.CLI())
	if _, err := p.Store.SQL().ExecContext(ctx, `DELETE FROM users WHERE id = ?`, bob.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.Get(strings.TrimPrefix(bl.URL, p.URL)), http.StatusNotFound)
}

func TestEnrollChallengeExpiresAfterTenMinutes(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	p.Clock.Advance(enroll.ChallengeTTL)
	r := c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}})
	wantStatus(t, r, http.StatusGone, "expired", "Start again")
}

func TestEnrollUnknownLinksAreThrottledPerAddress(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	var last testkit.Response
	for i := 0; i < 100; i++ {
		last = c.Get("/enroll/" + strings.Repeat("B", 40) + strconv.Itoa(i))
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	wantStatus(t, last, http.StatusTooManyRequests, "Too many tries")
	if last.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Once refused, even a valid link answers 429, so guessing learns nothing.
	wantStatus(t, c.Get(link), http.StatusTooManyRequests)
}

func TestInlineEnrollmentCreatesTheUserOnlyWhenFinished(t *testing.T) {
	ctx := context.Background()
	p := testkit.Serve(t)
	app := store.Application{Key: "DAAPP", Name: "Payroll"}
	inline := strings.TrimPrefix(p.Enroll.InlineURL("Carol", app), p.URL)
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get(inline), http.StatusOK, "Hello carol", "Payroll")
	page := startMobile(t, c, inline)
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("a user was created before finishing: %d", n)
	}
	wantRedirect(t, c.Post(inline+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), inline+"/done")
	wantStatus(t, c.Get(inline+"/done"), http.StatusOK, "You are set up")
	u, err := p.Store.UserByUsername(ctx, "carol")
	if err != nil {
		t.Fatalf("user not created: %v", err)
	}
	if f, _ := p.Enroll.FactorsOf(ctx, u.ID); !f.Any() {
		t.Fatal("inline user not enrolled")
	}
	// Another browser with the same URL cannot add a device to the now
	// enrolled account.
	wantStatus(t, testkit.NewClient(t, p).Get(inline), http.StatusGone, "already set up")

	b := []byte(inline)
	if b[len(b)-3] == 'Q' {
		b[len(b)-3] = 'g'
	} else {
		b[len(b)-3] = 'Q'
	}
	tampered := string(b)
	wantStatus(t, c.Get(tampered), http.StatusNotFound)
	p.Clock.Advance(enroll.InlineTTL)
	wantStatus(t, testkit.NewClient(t, p).Get(strings.TrimPrefix(p.Enroll.InlineURL("dave", app), p.URL)), http.StatusOK)
}
