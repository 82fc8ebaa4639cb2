package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

func TestAdminSignInWithPasswordAndTOTP(t *testing.T) {
	p := testkit.New(t)
	c, a := p.SignInAs(t, admin.RoleOwner)
	r := c.Get("/admin")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "<h1>Dashboard</h1>") || !strings.Contains(r.Body, a.Email) {
		t.Fatalf("dashboard after sign-in: %d\n%s", r.StatusCode, r.Body)
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/admin"} {
		if ck := r.Header.Get("Set-Cookie"); !strings.Contains(ck, want) {
			t.Errorf("admin cookie %q lacks %s", ck, want)
		}
	}
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetAdmin, a.Email, 10)
	if err != nil || len(entries) == 0 || entries[0].Action != audit.AdminSignedIn || entries[0].IP != c.IP {
		t.Fatalf("sign-in audit: %+v %v", entries, err)
	}
}

func TestAdminPagesNeedSignIn(t *testing.T) {
	p := testkit.New(t)
	c := testkit.NewClient(t, p)
	r := c.Get("/admin")
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("anonymous /admin: %d %s", r.StatusCode, r.Location())
	}
	// Half-way (password only) is not signed in either.
	a := p.AddAdmin(t, admin.RoleOwner)
	c.Get("/admin/signin")
	c.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}})
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("password-only session on /admin: %d %s", r.StatusCode, r.Location())
	}
}

func TestAdminSignInRefusals(t *testing.T) {
	p := testkit.New(t)
	a := p.AddAdmin(t, admin.RoleAdministrator)
	const generic = "The email or password is not right"

	t.Run("wrong password and unknown email look the same", func(t *testing.T) {
		for _, form := range []url.Values{
			{"email": {a.Email}, "password": {"wrong password here"}},
			{"email": {"nobody@example.org"}, "password": {testkit.AdminPassword}},
		} {
			c := testkit.NewClient(t, p)
			c.Get("/admin/signin")
			r := c.Post("/admin/signin", form)
			if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, generic) {
				t.Fatalf("%v: %d\n%s", form, r.StatusCode, r.Body)
			}
		}
	})

	t.Run("wrong and replayed codes", func(t *testing.T) {
		c := testkit.NewClient(t, p)
		c.Get("/admin/signin")
		c.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}})
		c.Get("/admin/signin/code")
		p.Clock.Advance(30 * time.Second)
		good := a.Code(t, p.Clock.Now())
		wrong := "000000"
		if wrong == good {
			wrong = "111111"
		}
		if r := c.Post("/admin/signin/code", url.Values{"code": {wrong}}); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "That code is not right") {
			t.Fatalf("wrong code: %d\n%s", r.StatusCode, r.Body)
		}
		// The wrong code slowed this address down (after the wrong password
		// above, by 2 s); wait that out.
		p.Clock.Advance(admin.SlowDelay(2))
		good = a.Code(t, p.Clock.Now())
		if r := c.Post("/admin/signin/code", url.Values{"code": {good}}); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin" {
			t.Fatalf("good code: %d %s", r.StatusCode, r.Location())
		}
		// The same code, seconds later, in another browser: refused.
		c2 := testkit.NewClient(t, p)
		c2.Get("/admin/signin")
		c2.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}})
		c2.Get("/admin/signin/code")
		if r := c2.Post("/admin/signin/code", url.Values{"code": {good}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d %s", r.StatusCode, r.Location())
		}
	})
}

// Wrong passwords used to lock any admin, owners included, for 15 minutes.
// Now they slow down the address that sent them: the owner signs in from
// elsewhere at once, the guesser gets the same generic answer even with the
// right password until the delay has passed, and the per-address limit
// throttles the rest.
func TestAdminWrongPasswordsSlowTheGuesserNotTheOwner(t *testing.T) {
	p := testkit.New(t)
	a := p.AddAdmin(t, admin.RoleOwner)
	guesser := testkit.NewClient(t, p)
	guesser.Get("/admin/signin")
	const guesses = 10
	for i := 1; i <= guesses; i++ {
		r := guesser.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {"not the password"}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "The email or password is not right") {
			t.Fatalf("wrong password %d: %d", i, r.StatusCode)
		}
		if i < guesses {
			p.Clock.Advance(admin.SlowDelay(i))
		}
	}
	p.SignIn(t, a) // the owner, from an address of their own, at once
	r := guesser.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}})
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "The email or password is not right") {
		t.Fatalf("right password from the guessing address within the delay: %d", r.StatusCode)
	}
	p.Clock.Advance(admin.SlowDelay(guesses))
	if r := guesser.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the delay: %d", r.StatusCode)
	}

	// Per address: many emails from one address are throttled.
	c2 := testkit.NewClient(t, p)
	c2.IP = "198.51.100.7"
	c2.Get("/admin/signin")
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		r := c2.Post("/admin/signin", url.Values{"email": {"guess" + strings.Repeat("x", i) + "@example.org"}, "password": {"whatever password"}})
		limited = r.StatusCode == http.StatusTooManyRequests && r.Header.Get("Retry-After") != ""
	}
	if !limited {
		t.Fatal("40 tries from one address were never throttled")
	}
}

// Signing out ended only the browser's copy of the session: a copied
// portal_admin cookie stayed valid for up to 12 hours.
func TestAdminSignOutEndsACopiedSession(t *testing.T) {
	p := testkit.New(t)
	c, a := p.SignInAs(t, admin.RoleReadOnly)
	stolen := c.Copy()
	if r := stolen.Get("/admin"); r.StatusCode != http.StatusOK {
		t.Fatalf("the copied cookie before sign-out: %d", r.StatusCode)
	}
	if r := c.Post("/admin/signout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	if r := stolen.Get("/admin"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("the copied cookie after sign-out: %d %s", r.StatusCode, r.Location())
	}
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetAdmin, a.Email, 10)
	if err != nil || len(entries) == 0 || entries[0].Action != audit.AdminSignedOut {
		t.Fatalf("sign-out audit: %+v %v", entries, err)
	}
	p.SignIn(t, a) // signing in again works
}

// Demoting, locking or deleting an admin ends their open session at once.
func TestAdminChangesEndTheOtherAdminsSession(t *testing.T) {
	p := testkit.New(t)
	owner, _ := p.SignInAs(t, admin.RoleOwner)
	for _, tc := range []struct {
		action, form string
		audit        string
	}{
		{"role", "read_only", audit.AdminRoleChanged},
		{"lock", "", audit.AdminLocked},
		{"delete", "", audit.AdminDeleted},
	} {
		victim := p.AddAdminNamed(t, admin.RoleAdministrator, tc.action+"@example.org")
		vc := p.SignIn(t, victim)
		if r := vc.Get("/admin/users"); r.StatusCode != http.StatusOK {
			t.Fatalf("%s: the victim's session before: %d", tc.action, r.StatusCode)
		}
		owner.Get("/admin/admins")
		form := url.Values{}
		if tc.form != "" {
			form.Set("role", tc.form)
		}
		if r := owner.Post("/admin/admins/"+victim.Key+"/"+tc.action, form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", tc.action, r.StatusCode, r.Body)
		}
		if r := vc.Get("/admin"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
			t.Fatalf("after %s the victim's session still answers %d %s", tc.action, r.StatusCode, r.Location())
		}
		entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetAdmin, victim.Email, 10)
		if err != nil || len(entries) == 0 || entries[0].Action != tc.audit {
			t.Fatalf("%s audit: %+v %v", tc.action, entries, err)
		}
		if tc.action == "lock" {
			c := testkit.NewClient(t, p)
			c.Get("/admin/signin")
			if r := c.Post("/admin/signin", url.Values{"email": {victim.Email}, "password": {testkit.AdminPassword}}); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a locked admin's password step: %d", r.StatusCode)
			}
			owner.Get("/admin/admins")
			if r := owner.Post("/admin/admins/"+victim.Key+"/unlock", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("unlock: %d", r.StatusCode)
			}
			p.SignIn(t, victim)
		}
	}
}

func TestAdminSessionExpires(t *testing.T) {
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleReadOnly)
	p.Clock.Advance(admin.IdleTimeout - time.Minute)
	if r := c.Get("/admin"); r.StatusCode != http.StatusOK {
		t.Fatalf("before the idle timeout: %d", r.StatusCode)
	}
	p.Clock.Advance(admin.IdleTimeout)
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("after the idle timeout: %d %s", r.StatusCode, r.Location())
	}
	if r := c.Get("/admin/signin"); !strings.Contains(r.Body, "Your admin session ended") {
		t.Fatalf("no notice after expiry:\n%s", r.Body)
	}

	// Busy all day, still signed out after 12 hours.
	c = p.SignIn(t, p.AddAdminNamed(t, admin.RoleReadOnly, "busy@example.org"))
	for elapsed := time.Duration(0); elapsed < admin.MaxSessionAge-20*time.Minute; elapsed += 20 * time.Minute {
		p.Clock.Advance(20 * time.Minute)
		if r := c.Get("/admin"); r.StatusCode != http.StatusOK {
			t.Fatalf("active session at %v: %d", elapsed, r.StatusCode)
		}
	}
	p.Clock.Advance(20 * time.Minute)
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after 12 hours: %d", r.StatusCode)
	}
}

func TestAdminSignOutAndCSRF(t *testing.T) {
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleHelpDesk)
	if r := c.Post("/admin/signout", url.Values{"csrf_token": {"forged"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out with a forged token: %d", r.StatusCode)
	}
	if r := c.Get("/admin"); r.StatusCode != http.StatusOK {
		t.Fatalf("still signed in after the refused post: %d", r.StatusCode)
	}
	if r := c.Post("/admin/signout", nil); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("sign-out: %d %s", r.StatusCode, r.Location())
	}
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", r.StatusCode)
	}
}

var secretRe = regexp.MustCompile(`class="secret"[^>]*>([A-Z2-7 ]+)<`)

func TestAdminOwnerSetupLink(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	token, _, err := p.Admins.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewClient(t, p)
	if r := c.Get("/admin/setup/" + token); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Create the owner account") {
		t.Fatalf("setup page: %d", r.StatusCode)
	}
	bad := []url.Values{
		{"email": {"owner@example.org"}, "password": {"short"}, "password_again": {"short"}},
		{"email": {"owner@example.org"}, "password": {"long enough password"}, "password_again": {"another long password"}},
		{"email": {"not an email"}, "password": {"long enough password"}, "password_again": {"long enough password"}},
	}
	for _, form := range bad {
		if r := c.Post("/admin/setup/"+token, form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `role="alert"`) {
			t.Fatalf("bad setup %v: %d", form, r.StatusCode)
		}
	}
	if n := testkit.Got(p.Store.CountAdmins(ctx)).Must(t); n != 0 {
		t.Fatalf("bad input created %d admins", n)
	}
	r := c.Post("/admin/setup/"+token, url.Values{"email": {"Owner@Example.org"}, "name": {"Olive Owner"}, "password": {"long enough password"}, "password_again": {"long enough password"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin/setup-code" {
		t.Fatalf("setup: %d %s", r.StatusCode, r.Location())
	}
	page := c.Get("/admin/signin/setup-code")
	m := secretRe.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no secret on the setup page:\n%s", page.Body)
	}
	if qr := c.Get("/admin/signin/setup-code/qr.png"); qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
	}
	ta := testkit.TestAdmin{TOTPSecret: strings.ReplaceAll(m[1], " ", "")}
	if r := c.Post("/admin/signin/setup-code", url.Values{"code": {"12345"}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad code: %d", r.StatusCode)
	}
	p.Clock.Advance(admin.FirstDelay) // the bad code slowed this address down
	if r := c.Post("/admin/signin/setup-code", url.Values{"code": {ta.Code(t, p.Clock.Now())}}); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("confirm code: %d %s", r.StatusCode, r.Location())
	}
	if r := c.Get("/admin"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "owner@example.org (Owner)") {
		t.Fatalf("dashboard: %d", r.StatusCode)
	}
	// The link worked once.
	if r := testkit.NewClient(t, p).Get("/admin/setup/" + token); r.StatusCode != http.StatusGone {
		t.Fatalf("used link: %d", r.StatusCode)
	}
	// With an admin present no new link is issued.
	if _, _, err := p.Admins.IssueSetupLink(ctx, audit.CLI()); !errors.Is(err, admin.ErrAdminsExist) {
		t.Fatalf("a link issued with an owner present: %v", err)
	}
}

// A new password (portal admin set-password) ends the admin's open sessions.
func TestAdminNewPasswordEndsOpenSessions(t *testing.T) {
	p := testkit.New(t)
	c, a := p.SignInAs(t, admin.RoleAdministrator)
	if err := p.Admins.SetPassword(context.Background(), a.Email, "a brand new password", audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("the session after a new password: %d %s", r.StatusCode, r.Location())
	}
	c2 := testkit.NewClient(t, p)
	c2.Get("/admin/signin")
	if r := c2.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {"a brand new password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new password: %d", r.StatusCode)
	}
}
