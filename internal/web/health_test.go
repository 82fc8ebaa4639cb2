package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/testkit"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	p := testkit.Serve(t)
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get("/healthz"), http.StatusOK, `"ok"`)
	wantStatus(t, c.Get("/readyz"), http.StatusOK, `"ok"`)

	link := newLink(t, p)
	page := startMobile(t, c, link)
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	c.Get("/nope")

	m := c.Get("/metrics")
	wantStatus(t, m, http.StatusOK,
		`portal_enrollments_started_total{method="mobile"} 1`,
		`portal_enrollments_completed_total{method="mobile"} 1`,
		`portal_enrollments_completed_total{method="security_key"} 0`,
		`portal_http_requests_total{method="POST",route="/enroll/:token/app",status="303"} 1`,
		`portal_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
	)
	if strings.Contains(m.Body, strings.TrimPrefix(link, "/enroll/")) {
		t.Fatal("a token appears in the metrics")
	}

	// Once the database is gone, the portal is not ready.
	p.Store.Close()
	wantStatus(t, c.Get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, c.Get("/healthz"), http.StatusOK)
}

func TestAssetsAreCacheBusted(t *testing.T) {
	p := testkit.Serve(t)
	c := testkit.NewClient(t, p)
	home := c.Get("/")
	m := regexp.MustCompile(`/assets/app\.css\?v=([0-9a-f]+)`).FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("no versioned style sheet link:\n%s", home.Body)
	}
	css := c.Get(m[0])
	wantStatus(t, css, http.StatusOK)
	if !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("versioned asset headers: %v", css.Header)
	}
	if got := c.Get("/assets/app.css?v=old").Header.Get("Cache-Control"); got != "no-cache" {
		t.Fatalf("stale version cached: %q", got)
	}
	wantStatus(t, c.Get("/assets/../go.mod"), http.StatusNotFound)
	wantStatus(t, c.Get("/assets/embed.go"), http.StatusNotFound)
}
