package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/testkit"
)

var nineDigits = regexp.MustCompile(`(?m)^\d{9}$`)
var csrfValue = regexp.MustCompile(`[A-Za-z0-9_-]{30,}\.[A-Za-z0-9_-]+`)

// devicesSignIn walks the device page's sign-in with username and code.
func devicesSignIn(t *testing.T, c *testkit.Client, username, code string) testkit.Response {
	t.Helper()
	c.Get("/my-devices")
	wantRedirect(t, c.Post("/my-devices/start", url.Values{"username": {username}}), "/my-devices/prove")
	c.Get("/my-devices/prove")
	return c.Post("/my-devices/prove", url.Values{"code": {code}})
}

func TestDevicesPageNeverSaysWhetherAUsernameExists(t *testing.T) {
	p := testkit.Serve(t)
	enrollAlicePhone(t, p)
	known := devicesSignIn(t, testkit.NewClient(t, p), "alice", "000000")
	unknown := devicesSignIn(t, testkit.NewClient(t, p), "nobody", "000000")
	wantStatus(t, known, http.StatusUnprocessableEntity, "That did not work")
	wantStatus(t, unknown, http.StatusUnprocessableEntity, "That did not work")
	strip := func(s string) string {
		return strings.ReplaceAll(csrfValue.ReplaceAllString(s, ""), "nobody", "alice")
	}
	if strip(known.Body) != strip(unknown.Body) {
		t.Fatalf("the answers differ:\n%s\n----\n%s", known.Body, unknown.Body)
	}
}

func TestDevicesPageRenameRemoveAddAndRecoveryCodes(t *testing.T) {
	p := testkit.Serve(t)
	_, qr := enrollAlicePhone(t, p)
	ctx := context.Background()
	c := testkit.NewClient(t, p)
	p.Clock.Advance(30 * time.Second)
	wantRedirect(t, devicesSignIn(t, c, "Alice", codeAt(t, qr, p.Clock.Now())), "/my-devices")
	page := c.Get("/my-devices")
	wantStatus(t, page, http.StatusOK, "Your devices", "Mobile phone", "Signed in as alice")
	u, _ := p.Store.UserByUsername(ctx, "alice")
	f, _ := p.Enroll.FactorsOf(ctx, u.ID)
	phone := f.Phones[0].Key

	wantStatus(t, c.Post("/my-devices/rename", url.Values{"device": {phone}, "name": {"Work phone"}}), http.StatusOK, "Work phone", "was renamed")
	wantStatus(t, c.Post("/my-devices/rename", url.Values{"device": {phone}, "name": {strings.Repeat("x", 61)}}), http.StatusUnprocessableEntity, "at most 60 characters")
	// The only device cannot go under a policy that requires one.
	wantStatus(t, c.Post("/my-devices/remove", url.Values{"device": {phone}}), http.StatusConflict, "only device")
	if n := factorCount(t, p, "alice"); n != 1 {
		t.Fatalf("%d factors after a refused removal", n)
	}

	// Add a device: straight to the enrollment steps, no second proof.
	r := c.Post("/my-devices/add", nil)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/enroll/") {
		t.Fatalf("add: %d %q", r.StatusCode, r.Location())
	}
	link := r.Location()
	wantStatus(t, c.Get(link), http.StatusOK, "Set up two-factor sign-in")
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"tablet"}}), link+"/platform")
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {"Google Android"}}), link+"/app")
	tablet := c.Get(link + "/app")
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, tablet.Body, p.Clock.Now())}}), link+"/done")
	wantStatus(t, c.Get(link+"/done"), http.StatusOK, `href="/my-devices"`)
	if n := factorCount(t, p, "alice"); n != 2 {
		t.Fatalf("%d factors after adding", n)
	}
	// Now the phone can go; alice is told by email.
	c.Get("/my-devices")
	wantStatus(t, c.Post("/my-devices/remove", url.Values{"device": {phone}}), http.StatusOK, "was removed")
	if n := factorCount(t, p, "alice"); n != 1 {
		t.Fatalf("%d factors after removing", n)
	}
	if got := strings.Join(outboxSubjects(t, p, "alice@example.com"), "\n"); !strings.Contains(got, "A device was removed") {
		t.Errorf("no removal email: %q", got)
	}

	codes := c.Post("/my-devices/recovery-codes", nil)
	shown := nineDigits.FindAllString(codes.Body, -1)
	if codes.StatusCode != http.StatusOK || len(shown) != 10 || codes.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("recovery codes: %d %d\n%s", codes.StatusCode, len(shown), codes.Body)
	}
	// The session lasts 10 minutes; a recovery code signs in again, once.
	p.Clock.Advance(enroll.ProofTTL + time.Second)
	wantStatus(t, c.Get("/my-devices"), http.StatusOK, `action="/my-devices/start"`)
	wantRedirect(t, c.Post("/my-devices/signout", nil), "/my-devices")
	wantRedirect(t, devicesSignIn(t, c, "alice", shown[0]), "/my-devices")
	wantStatus(t, devicesSignIn(t, testkit.NewClient(t, p), "alice", shown[0]), http.StatusUnprocessableEntity, "That did not work")

	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 100)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.FactorProved, audit.PhoneRenamed, audit.PhoneRemoved, audit.RecoveryCodesMade} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}
