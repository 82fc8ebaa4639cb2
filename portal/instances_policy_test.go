package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

var confirmVersionField = regexp.MustCompile(`name="confirm_version" value="([0-9a-f]+)"`)

// signInAdmin adds an owner in the handle and signs them in through the
// proxy: the pages' requests alternate between the instances, so the
// session cookie and the CSRF token made by one are taken by the other.
func (c *cluster) signInAdmin(t *testing.T) *testkit.Client {
	t.Helper()
	// The authenticator app is confirmed with an older code, so that the
	// sign-in's code (now) is not a replay of it.
	c.Handle.Clock.Set(time.Now().Add(-time.Minute))
	a := c.Handle.AddAdmin(t, admin.RoleOwner)
	c.Handle.Clock.Set(time.Now())
	cl := testkit.NewClientAt(t, c.URL, c.Client().Transport)
	cl.Get("/admin/signin")
	r := cl.Post("/admin/signin", url.Values{"email": {a.Email}, "password": {testkit.AdminPassword}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin/code" {
		t.Fatalf("password step: %d %s\n%s", r.StatusCode, r.Location(), r.Body)
	}
	cl.Get("/admin/signin/code")
	r = cl.Post("/admin/signin/code", url.Values{"code": {a.Code(t, time.Now())}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin" {
		t.Fatalf("code step: %d %s\n%s", r.StatusCode, r.Location(), r.Body)
	}
	if r := cl.Get("/admin"); r.StatusCode != http.StatusOK {
		t.Fatalf("the admin home after sign-in: %d", r.StatusCode)
	}
	return cl
}

// The global policy changed on the admin pages (through the proxy, so by
// either instance) is enforced by both: preauths of a new user, which
// alternate between the instances, answer deny from then on.
func TestTwoInstancesEnforceAPolicyChangedThroughEither(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2)
	client := c.authAPIClient(t)
	preauth := func() string {
		t.Helper()
		res, err := client.Preauth(authapi.PreauthUsername("newcomer"))
		if err != nil || res.Stat != "OK" {
			t.Fatalf("preauth: %+v %v", res, err)
		}
		return res.Response.Result
	}
	for range 2 {
		if got := preauth(); got != "enroll" {
			t.Fatalf("before the change a new user's preauth answered %q, want enroll", got)
		}
	}
	admin := c.signInAdmin(t)
	global, err := c.Handle.Store.GlobalPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/policies/" + global.Key
	admin.Get(path)
	form := url.Values{"new_user_policy": {store.NewUserDeny}, "denied_countries_mode": {"set"},
		"enroll_methods_mode": {"set"}, "enroll_methods": {store.MethodAuthenticatorApp, store.MethodSecurityKey},
		"auth_methods_mode": {"set"}, "auth_methods": {store.MethodAuthenticatorApp, store.MethodSecurityKey}}
	r := admin.Post(path, form)
	m := confirmVersionField.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("preview: %d\n%s", r.StatusCode, r.Body)
	}
	form.Set("confirm_version", m[1])
	if r := admin.Post(path, form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", r.StatusCode, r.Body)
	}
	changed := time.Now()
	// Four denies in a row: each instance has answered deny twice.
	streak, streakFrom := 0, time.Time{}
	for deadline := changed.Add(10 * time.Second); streak < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the change the instances still did not both deny a new user")
		}
		got := preauth()
		if got == "deny" {
			if streak == 0 {
				streakFrom = time.Now()
			}
			streak++
		} else {
			streak = 0
			time.Sleep(20 * time.Millisecond)
		}
	}
	c.wantBothServed(t)
	t.Logf("both instances denied a new user %.0f ms after the change was saved", streakFrom.Sub(changed).Seconds()*1000)
}
