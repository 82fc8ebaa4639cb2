package testkit

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

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
	return TOTPCode(t, a.TOTPSecret, at)
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
func (p *Portal) SignIn(t testing.TB, a TestAdmin) *Client {
	t.Helper()
	c := NewClient(t, p)
	c.Get("/admin/signin")
	r := c.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {AdminPassword}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin/code" {
		t.Fatalf("sign in %s: password step answered %d %s", a.Email, r.StatusCode, r.Location())
	}
	p.Clock.Advance(30 * time.Second)
	c.Get("/admin/signin/code")
	r = c.Post("/admin/signin/code", url.Values{"code": {a.Code(t, p.Clock.Now())}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("sign in %s: code step answered %d %s", a.Email, r.StatusCode, r.Location())
	}
	c.Get("/admin") // the CSRF token of the signed-in session
	return c
}

// SignInAs adds an admin with role and signs them in.
func (p *Portal) SignInAs(t testing.TB, role string) (*Client, TestAdmin) {
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
