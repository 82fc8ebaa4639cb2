package testkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// FormClient drives the portal's HTML pages through p.Handler like a browser
// without JavaScript: it keeps cookies, follows nothing by itself, and fills
// in the CSRF token of the last page it read.
type FormClient struct {
	t       testing.TB
	h       http.Handler
	base    string
	cookies map[string]*http.Cookie
	csrf    string
	// IP is the client address requests come from.
	IP string
}

// FormResponse is what a FormClient request got back.
type FormResponse struct {
	Code   int
	Header http.Header
	Body   string
}

// Location is the redirect target of the response.
func (r FormResponse) Location() string { return r.Header.Get("Location") }

// clientNumber gives each FormClient an address of its own, so that the
// portal's per-address rate limits see separate people unless a test sets
// the same IP on purpose.
var clientNumber atomic.Uint32

// NewFormClient returns a client with no cookies, coming from an address of
// its own in 198.18.0.0/15.
func (p *Portal) NewFormClient(t testing.TB) *FormClient {
	return &FormClient{t: t, h: p.Handler, base: p.URL, cookies: map[string]*http.Cookie{}, IP: nextClientIP()}
}

func nextClientIP() string {
	n := clientNumber.Add(1)
	return fmt.Sprintf("198.%d.%d.%d", 18+(n>>16)&1, (n>>8)&255, n&255)
}

// Copy returns a client at another address holding copies of c's cookies,
// as someone who copied them out of c's browser would.
func (c *FormClient) Copy() *FormClient {
	cp := *c
	cp.cookies = make(map[string]*http.Cookie, len(c.cookies))
	for k, v := range c.cookies {
		ck := *v
		cp.cookies[k] = &ck
	}
	cp.IP = nextClientIP()
	return &cp
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// Do sends one request and records cookies and the page's CSRF token.
func (c *FormClient) Do(method, path string, body io.Reader, contentType string) FormResponse {
	c.t.Helper()
	req := httptest.NewRequest(method, c.base+path, body)
	req.RemoteAddr = c.IP + ":40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	out := FormResponse{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
	if m := csrfRe.FindStringSubmatch(out.Body); m != nil {
		c.csrf = m[1]
	}
	return out
}

// Get fetches path.
func (c *FormClient) Get(path string) FormResponse {
	c.t.Helper()
	return c.Do(http.MethodGet, path, nil, "")
}

// Post submits a form to path, adding the CSRF token of the last page read
// unless form has one.
func (c *FormClient) Post(path string, form url.Values) FormResponse {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.csrf)
	}
	return c.Do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// CSRF is the token of the last page read.
func (c *FormClient) CSRF() string { return c.csrf }

// AdminPassword is the password of admins made by AddAdmin.
const AdminPassword = "correct horse battery staple"

// TestAdmin is an admin made by AddAdmin, with the secret of its
// authenticator app.
type TestAdmin struct {
	store.Admin
	TOTPSecret string
}

// Code is the code the admin's app shows at the portal's (fake) time t.
func (a TestAdmin) Code(t testing.TB, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(a.TOTPSecret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// AddAdmin creates an admin with role (email ROLE@example.org, password
// AdminPassword) whose authenticator app is already set up.
func (p *Portal) AddAdmin(t testing.TB, role string) TestAdmin {
	t.Helper()
	return p.AddAdminNamed(t, role, role+"@example.org")
}

// AddAdminNamed is AddAdmin with a chosen email.
func (p *Portal) AddAdminNamed(t testing.TB, role, email string) TestAdmin {
	t.Helper()
	ctx := context.Background()
	a, err := p.Admins.Create(ctx, admin.NewAdmin{Email: email, Name: admin.RoleLabel(role), Role: role, Password: AdminPassword}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	sec := admin.NewTOTPSecret()
	ta := TestAdmin{Admin: a, TOTPSecret: sec}
	if err := p.Admins.ConfirmTOTP(ctx, a, sec, ta.Code(t, p.Clock.Now()), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	a, err = p.Store.AdminByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ta.Admin = a
	return ta
}

// SignIn signs a in through the sign-in pages and returns the client, which
// then holds a signed-in admin session. It moves the fake clock one TOTP step
// on, so that the code is a fresh one.
func (p *Portal) SignIn(t testing.TB, a TestAdmin) *FormClient {
	t.Helper()
	c := p.NewFormClient(t)
	c.Get("/admin/signin")
	r := c.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {AdminPassword}})
	if r.Code != http.StatusSeeOther || r.Location() != "/admin/signin/code" {
		t.Fatalf("sign in %s: password step answered %d %s", a.Email, r.Code, r.Location())
	}
	p.Clock.Advance(30 * time.Second)
	c.Get("/admin/signin/code")
	r = c.Post("/admin/signin/code", url.Values{"code": {a.Code(t, p.Clock.Now())}})
	if r.Code != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("sign in %s: code step answered %d %s", a.Email, r.Code, r.Location())
	}
	c.Get("/admin") // the CSRF token of the signed-in session
	return c
}

// SignInAs adds an admin with role and signs them in.
func (p *Portal) SignInAs(t testing.TB, role string) (*FormClient, TestAdmin) {
	t.Helper()
	a := p.AddAdmin(t, role)
	return p.SignIn(t, a), a
}

// WithSetup gives an admin created without a second factor (through the
// admin pages) an authenticator app, as their first sign-in would.
func (a TestAdmin) WithSetup(t testing.TB, p *Portal) TestAdmin {
	t.Helper()
	ctx := context.Background()
	a.TOTPSecret = admin.NewTOTPSecret()
	if err := p.Admins.ConfirmTOTP(ctx, a.Admin, a.TOTPSecret, a.Code(t, p.Clock.Now()), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	got, err := p.Store.AdminByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Admin = got
	return a
}
