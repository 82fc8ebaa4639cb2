package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/testkit"
)

func TestAdminTokensImportWithPreviewAssignAndResync(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	ivy := addUser(t, p, "ivy", "ivy@example.org", "Ivy")
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	page := c.Get("/admin/tokens")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "No tokens yet") {
		t.Fatalf("tokens page: %d\n%s", page.StatusCode, page.Body)
	}
	bad := "H1,3132333435363738393031323334353637383930,hotp-6\nH2,zz\n"
	r := c.Post("/admin/tokens/preview", url.Values{"csv": {bad}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "hexadecimal") || !strings.Contains(r.Body, "Nothing was imported") {
		t.Fatalf("bad preview: %d\n%s", r.StatusCode, r.Body)
	}
	// Posting the bad import anyway changes nothing.
	c.Post("/admin/tokens/import", url.Values{"csv": {bad}})
	if ts, _ := p.Store.OATHTokens(ctx, 10); len(ts) != 0 {
		t.Fatalf("a bad import added %d tokens", len(ts))
	}
	good := "serial,secret_hex,type,counter\nH1,3132333435363738393031323334353637383930,hotp-6,0\nT1,3132333435363738393031323334353637383930,totp-6/60\n"
	r = c.Post("/admin/tokens/preview", url.Values{"csv": {good}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Every line is good") || !strings.Contains(r.Body, "totp-6/60") ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("good preview: %d\n%s", r.StatusCode, r.Body)
	}
	if r = c.Post("/admin/tokens/import", url.Values{"csv": {good}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d\n%s", r.StatusCode, r.Body)
	}
	c.Get("/admin/tokens")
	if r = c.Post("/admin/tokens/assign", url.Values{"serial": {"H1"}, "username": {"ivy"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d\n%s", r.StatusCode, r.Body)
	}
	addUser(t, p, "jo", "", "")
	c.Get("/admin/tokens")
	if r = c.Post("/admin/tokens/assign", url.Values{"serial": {"H1"}, "username": {"jo"}}); r.StatusCode != http.StatusConflict {
		t.Fatalf("assign to a second user: %d", r.StatusCode)
	}
	if ts, _ := p.Store.OATHTokensByUser(ctx, ivy.ID); len(ts) != 1 || ts[0].Serial != "H1" {
		t.Fatalf("ivy's tokens %+v", ts)
	}
	if page := c.Get("/admin/users/" + ivy.Key); !strings.Contains(page.Body, "serial H1") {
		t.Fatalf("user page lacks the token:\n%s", page.Body)
	}
	// Resync with RFC 4226's codes at counters 3, 4, 5.
	if r = c.Post("/admin/tokens/resync", url.Values{"serial": {"H1"}, "code1": {"969429"}, "code2": {"338314"}, "code3": {"254676"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resync: %d\n%s", r.StatusCode, r.Body)
	}
	c.Get("/admin/tokens")
	if r = c.Post("/admin/tokens/resync", url.Values{"serial": {"H1"}, "code1": {"1"}, "code2": {"2"}, "code3": {"3"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("resync with wrong codes: %d", r.StatusCode)
	}
}
