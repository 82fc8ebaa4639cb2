package duo

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"enrollportal/internal/app"
)

// BenchmarkPreauthAuthAPIv2PostgresTwoInstances is Auth API v2 preauth at
// 100,000 users in PostgreSQL served by two portal instances (two apps
// opened on the same database and key, each with its own connection pool,
// caches and HTTP server, as two `portal serve` processes have), the
// requests spread over both in turn. The same run first measures one of
// them alone with the same load (4 requests in flight), so the ratio
// compares like with like on this 2-core machine, where two instances
// share the cores one would have: the target is that two are not slower
// than half of one.
func BenchmarkPreauthAuthAPIv2PostgresTwoInstances(b *testing.B) {
	f, done := newPostgresFixture(b)
	defer done()
	second, err := app.Open(context.Background(), f.app.Settings, app.Options{LogOut: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer second.Close()
	h, err := second.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv2 := httptest.NewServer(h)
	defer srv2.Close()
	host2 := strings.TrimPrefix(srv2.URL, "http://")

	n := requestsPerRun * b.N
	// An unmeasured pass first, so that neither figure pays for reading the
	// users into PostgreSQL's cache.
	both := func(i int) *http.Request {
		if i%2 == 0 {
			return signedPreauthV2(f, f.portal, f.host, randomUser(i))
		}
		return signedPreauthV2(f, srv2, host2, randomUser(i))
	}
	load(b, n/2, both, checkPreauthV2)
	b.ResetTimer()
	oneRPS, oneP99, oneCPU := load(b, n, preauthV2(f, f.portal, f.host), checkPreauthV2)
	twoRPS, twoP99, twoCPU := load(b, n, both, checkPreauthV2)
	b.StopTimer()
	b.ReportMetric(twoRPS, "req/s")
	b.ReportMetric(float64(twoP99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(twoCPU.Microseconds()), "cpu_us/req")
	b.ReportMetric(oneRPS, "one_req/s")
	b.ReportMetric(float64(oneP99.Microseconds())/1000, "one_p99_ms")
	b.ReportMetric(twoRPS/oneRPS, "ratio_two_to_one")
	b.Logf("preauth at 100,000 users on PostgreSQL: two instances %.0f req/s (p99 %.1f ms, %d µs CPU a request), one instance %.0f req/s (p99 %.1f ms, %d µs); two/one %.2f (target: at least 0.5)",
		twoRPS, float64(twoP99.Microseconds())/1000, twoCPU.Microseconds(), oneRPS, float64(oneP99.Microseconds())/1000, oneCPU.Microseconds(), twoRPS/oneRPS)
}
