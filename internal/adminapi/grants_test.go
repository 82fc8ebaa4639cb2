package adminapi_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"enrollportal/internal/adminapi"
	"enrollportal/internal/store"
)

// TestAdminAPIGrantMatrix calls every endpoint as an application holding
// each single grant, none, and as applications of the other kinds: only
// the endpoint's own grant gets past the check.
func TestAdminAPIGrantMatrix(t *testing.T) {
	a := newAdminPortal(t)
	segment := regexp.MustCompile(`:[a-z_]+`)
	type caller struct {
		name   string
		call   func(method, path string) (int, envelope)
		grant  string
		anyAPI bool // a kind that may not call the Admin API at all
	}
	var callers []caller
	for _, g := range append(append([]string{}, store.Grants...), "") {
		var grants []string
		if g != "" {
			grants = []string{g}
		}
		_, base, _ := a.newClient(t, store.AppAdminAPI, grants...)
		callers = append(callers, caller{name: "grant " + strconv.Quote(g), grant: g,
			call: func(m, p string) (int, envelope) { return form(t, base, m, p, nil) }})
	}
	for _, kind := range []string{store.AppAuthAPI, store.AppUnix} {
		_, base, _ := a.newClient(t, kind)
		callers = append(callers, caller{name: kind, anyAPI: true,
			call: func(m, p string) (int, envelope) { return form(t, base, m, p, nil) }})
	}
	endpoints := adminapi.Endpoints()
	if len(endpoints) < 20 {
		t.Fatalf("only %d endpoints", len(endpoints))
	}
	for _, ep := range endpoints {
		path := segment.ReplaceAllString(ep.Path, "DXNOSUCHOBJECT00000")
		for _, c := range callers {
			code, e := c.call(ep.Method, path)
			refused := code == http.StatusForbidden && e.Code == 40301
			if want := c.anyAPI || c.grant != ep.Grant; refused != want {
				t.Errorf("%s %s as %s: %d %d %s, refused=%v want %v", ep.Method, ep.Path, c.name, code, e.Code, e.MessageDetail, refused, want)
			}
		}
	}
	if n := countUsers(t, a.p); n != 0 {
		t.Fatalf("the matrix created %d users", n)
	}
}

// TestAdminAPIRateLimitAnswers429WithRetryAfter: one application's flood
// is refused with Duo's 42901 and a Retry-After, and another application
// is not slowed by it.
func TestAdminAPIRateLimitAnswers429WithRetryAfter(t *testing.T) {
	a := newAdminPortal(t)
	// Signed by hand: duo_api_golang itself would wait and retry on 429.
	date := a.p.Clock.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
	auth := signV2(a.app.ClientID, a.app.ClientSecret, date, http.MethodGet, a.host, "/admin/v1/users", url.Values{"limit": {"1"}})
	var refused *http.Response
	for i := 0; i <= adminapi.RateBurst; i++ {
		req, _ := http.NewRequest(http.MethodGet, a.p.URL+"/admin/v1/users?limit=1", nil)
		req.Header.Set("Date", date)
		req.Header.Set("Authorization", auth)
		resp, err := a.tls.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			if e := decode(t, "GET", "/admin/v1/users", body); e.Code != 42901 {
				t.Fatalf("429 answer = %+v", e)
			}
			refused = resp
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d = %d %s", i, resp.StatusCode, body)
		}
	}
	if n, err := strconv.Atoi(refused.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After = %q", refused.Header.Get("Retry-After"))
	}
	_, other, _ := a.newClient(t, store.AppAdminAPI, store.GrantReadResource)
	if code, e := form(t, other, http.MethodGet, "/admin/v1/users", nil); code != 200 {
		t.Fatalf("another application = %d %+v", code, e)
	}
}
