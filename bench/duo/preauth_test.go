package duo

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/app"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/duo"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

const (
	userCount = 100_000
	// requestsPerRun is the load of one benchmark iteration; make bench
	// runs one iteration.
	requestsPerRun = 20_000
	workers        = 4
)

// fixture is one portal with 100,000 enrolled users, shared by every
// benchmark of the run (loading it is the slow part).
type fixture struct {
	portal, bare *httptest.Server
	unix         apps.Created
	authAPI      apps.Created
	host         string
	loadTime     time.Duration
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
)

func getFixture(b *testing.B) *fixture {
	b.Helper()
	fixtureOnce.Do(func() { shared, fixtureErr = newFixture() })
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return shared
}

func username(i int) string { return fmt.Sprintf("user%06d", i) }

func newFixture() (*fixture, error) {
	ctx := context.Background()
	dir, err := mkdirTemp()
	if err != nil {
		return nil, err
	}
	// The real clock: clients sign with it. Logs at warn, as a busy
	// production server would run.
	s := config.Settings{DB: filepath.Join(dir, "portal.db"), BaseURL: "http://localhost", LogLevel: "warn",
		SecretKeyFile: filepath.Join(dir, "secret.key"), OrgName: "Bench"}
	a, err := app.Open(ctx, s, app.Options{LogOut: io.Discard})
	if err != nil {
		return nil, err
	}
	f := &fixture{}
	start := time.Now()
	// Every user has an activated phone, so preauth answers "auth": the
	// read-only path every login of an enrolled user takes.
	now := time.Now()
	sealed := []byte("not opened by preauth")
	users := make([]*store.User, userCount)
	phones := make([]*store.Phone, userCount)
	for i := range users {
		users[i] = &store.User{Key: secret.NewID("DU", 20), Username: username(i), Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}
		phones[i] = &store.Phone{Key: secret.NewID("DP", 20), Type: store.PhoneMobile, Platform: store.PlatformGeneric,
			TOTPSecret: sealed, Activated: true, ActivatedAt: &now, CreatedAt: now}
	}
	// One transaction of multi-row inserts.
	err = a.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateUsers(ctx, users); err != nil {
			return err
		}
		if err := q.CreatePhones(ctx, phones); err != nil {
			return err
		}
		pairs := make([][2]int64, userCount)
		for i := range users {
			pairs[i] = [2]int64{users[i].ID, phones[i].ID}
		}
		return q.AttachPhones(ctx, pairs)
	})
	if err != nil {
		return nil, err
	}
	f.loadTime = time.Since(start)
	if f.unix, err = a.Apps.Create(ctx, apps.NewApp{Name: "Bastions", Kind: store.AppUnix}, audit.CLI()); err != nil {
		return nil, err
	}
	if f.authAPI, err = a.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: store.AppAuthAPI}, audit.CLI()); err != nil {
		return nil, err
	}
	h, err := a.Handler()
	if err != nil {
		return nil, err
	}
	f.portal = httptest.NewServer(h)
	f.host = strings.TrimPrefix(f.portal.URL, "http://")

	// The baseline: a bare Gin handler doing one indexed read of the same
	// users table through the same store.
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.POST("/user", func(c *gin.Context) {
		u, err := a.Store.UserByUsername(c.Request.Context(), c.PostForm("user"))
		if err != nil {
			c.Status(http.StatusNotFound)
			return
		}
		c.JSON(http.StatusOK, gin.H{"stat": "OK", "response": gin.H{"user_id": u.Key}})
	})
	f.bare = httptest.NewServer(bare)
	return f, nil
}

// load sends n requests from workers goroutines and returns the throughput
// and the 99th percentile latency. newReq builds request i.
func load(b *testing.B, n int, newReq func(i int) *http.Request, check func(*http.Response, []byte) error) (rps float64, p99 time.Duration, cpuPerReq time.Duration) {
	b.Helper()
	cpuBefore := processCPU()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	latencies := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req := newReq(i)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				if err := check(resp, body); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	cpuPerReq = (processCPU() - cpuBefore) / time.Duration(n)
	slices.Sort(latencies)
	return float64(n) / elapsed.Seconds(), latencies[n*99/100], cpuPerReq
}

// processCPU is the CPU time this process has used, user and system. The
// machine is shared, so CPU per request says more about the code than
// wall-clock throughput does; it includes the in-process load generator.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func randomUser(i int) string { return username(rand.IntN(userCount)) }

// bareLoad measures the baseline with the same load shape.
func bareLoad(b *testing.B, f *fixture, n int) float64 {
	rps, _, _ := load(b, n, func(i int) *http.Request {
		req, _ := http.NewRequest("POST", f.bare.URL+"/user", strings.NewReader(url.Values{"user": {randomUser(i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}, func(resp *http.Response, _ []byte) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bare handler answered %d", resp.StatusCode)
		}
		return nil
	})
	return rps
}

func report(b *testing.B, f *fixture, rps float64, p99, cpu time.Duration, bareRPS float64) {
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu_us/req")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(bareRPS, "bare_req/s")
	b.ReportMetric(rps/bareRPS, "ratio")
	b.ReportMetric(f.loadTime.Seconds(), "load_100k_s")
}

// BenchmarkPreauthRESTv1 is login_duo's first call: a v1-signed form POST
// answered in BSON.
func BenchmarkPreauthRESTv1(b *testing.B) {
	f := getFixture(b)
	n := requestsPerRun * b.N
	b.ResetTimer()
	rps, p99, cpu := load(b, n, func(i int) *http.Request {
		body := duo.CanonParamsV1(url.Values{"user": {randomUser(i)}, "ipaddr": {"10.0.0.1"}, "hostname": {"bastion"}, "failmode": {"secure"}})
		sig := duo.Sign(duo.SigV1, f.unix.ClientSecret, duo.CanonV1("POST", "localhost", "/rest/v1/preauth.bson", body))
		req, _ := http.NewRequest("POST", f.portal.URL+"/rest/v1/preauth.bson", strings.NewReader(body))
		req.Host = "localhost"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(f.unix.ClientID+":"+sig)))
		return req
	}, func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "auth") {
			return fmt.Errorf("preauth.bson answered %d %q", resp.StatusCode, body)
		}
		return nil
	})
	b.StopTimer()
	report(b, f, rps, p99, cpu, bareLoad(b, f, n))
}

// BenchmarkPreauthAuthAPIv2 is duo_api_golang's Preauth: a v2-signed form
// POST answered in JSON.
func BenchmarkPreauthAuthAPIv2(b *testing.B) {
	f := getFixture(b)
	n := requestsPerRun * b.N
	b.ResetTimer()
	rps, p99, cpu := load(b, n, func(i int) *http.Request {
		params := url.Values{"username": {randomUser(i)}, "ipaddr": {"10.0.0.1"}}
		date := time.Now().UTC().Format(time.RFC1123Z)
		sig := duo.Sign(duo.SigV2, f.authAPI.ClientSecret, duo.CanonV2(date, "POST", f.host, "/auth/v2/preauth", duo.CanonParams(params)))
		req, _ := http.NewRequest("POST", f.portal.URL+"/auth/v2/preauth", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Date", date)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(f.authAPI.ClientID+":"+sig)))
		return req
	}, func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result":"auth"`) {
			return fmt.Errorf("preauth answered %d %q", resp.StatusCode, body)
		}
		return nil
	})
	b.StopTimer()
	report(b, f, rps, p99, cpu, bareLoad(b, f, n))
}

// mkdirTemp makes the shared fixture's directory; the process's exit (or
// the OS) cleans it, as benchmarks share it across functions.
func mkdirTemp() (string, error) { return os.MkdirTemp("", "bench-duo-") }
