package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/config"
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

// metricSeries counts the request counter's series in a /metrics answer.
func metricSeries(body string) int {
	return strings.Count(body, "\nportal_http_requests_total{")
}

func TestInventedMethodsDoNotGrowTheMetrics(t *testing.T) {
	p := testkit.Serve(t)
	c := testkit.NewClient(t, p)
	client := &http.Client{}
	send := func(method string) {
		req, err := http.NewRequest(method, p.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send("INVENTED0")
	before := c.Get("/metrics")
	wantStatus(t, before, http.StatusOK)
	for i := 1; i <= 2000; i++ {
		send(fmt.Sprintf("INVENTED%d", i))
	}
	after := c.Get("/metrics")
	wantStatus(t, after, http.StatusOK, `method="other"`)
	if b, a := metricSeries(before.Body), metricSeries(after.Body); a > b+1 {
		// +1: the first GET /metrics itself is counted after it answered.
		t.Fatalf("2,000 invented methods grew the request counter from %d to %d series", b, a)
	}
	if strings.Contains(after.Body, "INVENTED") {
		t.Fatal("an invented method name is a label value")
	}
}

// metricsFrom asks for /metrics as a client at remoteAddr would.
func metricsFrom(p *testkit.Portal, remoteAddr string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.RemoteAddr = remoteAddr
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	p.Handler.ServeHTTP(rec, req)
	return rec
}

func TestMetricsOnTheMainListenerNeedLoopbackOrToken(t *testing.T) {
	// No token configured: this machine only.
	p := testkit.New(t)
	if rec := metricsFrom(p, "127.0.0.1:40000", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "portal_enrollments_started_total") {
		t.Fatalf("loopback: %d %s", rec.Code, rec.Body)
	}
	if rec := metricsFrom(p, "[::1]:40000", nil); rec.Code != http.StatusOK {
		t.Fatalf("IPv6 loopback: %d", rec.Code)
	}
	if rec := metricsFrom(p, "203.0.113.7:40000", nil); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "portal_") {
		t.Fatalf("remote without a token configured: %d %s", rec.Code, rec.Body)
	}
	// A reverse proxy on this machine connects from loopback but forwards
	// someone else's request.
	fwd := http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	if rec := metricsFrom(p, "127.0.0.1:40000", fwd); rec.Code != http.StatusForbidden {
		t.Fatalf("forwarded through a local proxy: %d", rec.Code)
	}

	// With a token: a remote caller needs it.
	const token = "m3trics-t0ken-for-the-test-only"
	file := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := testkit.New(t, func(s *config.Settings) { s.MetricsTokenFile = file })
	rec := metricsFrom(q, "203.0.113.7:40000", nil)
	if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") || strings.Contains(rec.Body.String(), "portal_") {
		t.Fatalf("remote without the token: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec := metricsFrom(q, "203.0.113.7:40000", http.Header{"Authorization": {"Bearer " + token + "x"}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("remote with a wrong token: %d", rec.Code)
	}
	if rec := metricsFrom(q, "203.0.113.7:40000", http.Header{"Authorization": {"Bearer " + token}}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "portal_enrollments_started_total") {
		t.Fatalf("remote with the token: %d %s", rec.Code, rec.Body)
	}
	if rec := metricsFrom(q, "127.0.0.1:40000", nil); rec.Code != http.StatusOK {
		t.Fatalf("loopback with a token configured: %d", rec.Code)
	}
}

func TestReadinessNeedsADatabaseThatTakesWrites(t *testing.T) {
	p := testkit.Serve(t)
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get("/readyz"), http.StatusOK, `"ok"`)

	// Another process holds the write lock: reads still answer, writes
	// cannot happen, so the portal is not ready.
	unlock := testkit.LockWritesFromOutside(t, p)
	wantStatus(t, c.Get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, c.Get("/healthz"), http.StatusOK)
	unlock()
	wantStatus(t, c.Get("/readyz"), http.StatusOK, `"ok"`)
	// The write of the check is rolled back: nothing accumulates.
	var n int
	if err := p.Store.SQL().QueryRow("SELECT COUNT(*) FROM health").Scan(&n); err != nil || n != 0 {
		t.Fatalf("health rows = %d, %v", n, err)
	}
}
