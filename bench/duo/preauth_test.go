package duo

import (
	"bytes"
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
	"runtime"
	"slices"
	"strconv"
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
	// tlsWorkers is the connection count of the TLS figures: a VPN or a
	// fleet of bastions keeps many connections open to the portal.
	tlsWorkers = 16
)

// fixture is one portal with 100,000 enrolled users, shared by every
// benchmark of the run (loading it is the slow part).
type fixture struct {
	dir          string
	app          *app.App
	portal, bare *httptest.Server
	// The same handlers over TLS.
	portalTLS, bareTLS *httptest.Server
	unix               apps.Created
	authAPI            apps.Created
	host, hostTLS      string
	loadTime           time.Duration
	// warmTime is how long the login cache took to load the 100,000
	// users after the bulk load (the portal does it in the background);
	// cacheHeap is the Go heap it added, and rss the process's resident
	// memory after it (the load generator's and SQLite's page caches
	// included).
	warmTime       time.Duration
	cacheHeap, rss uint64
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
	dir, err := mkdirTemp()
	if err != nil {
		return nil, err
	}
	return newFixtureOn(dir, filepath.Join(dir, "portal.db"))
}

// newFixtureOn loads the fixture into the database db (a SQLite file or a
// PostgreSQL URL), with its key file in dir.
func newFixtureOn(dir, db string) (*fixture, error) {
	ctx := context.Background()
	// The real clock: clients sign with it. Logs at warn, as a busy
	// production server would run.
	s := config.Settings{DB: db, BaseURL: "http://localhost", LogLevel: "warn",
		SecretKeyFile: filepath.Join(dir, "secret.key"), OrgName: "Bench"}
	a, err := app.Open(ctx, s, app.Options{LogOut: io.Discard})
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, app: a}
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
	// The figures are of a portal that has been serving: its login cache
	// holds every user, as it does shortly after start or a bulk change.
	heapBefore := liveHeap()
	start = time.Now()
	if err := a.Store.WarmLoginCache(ctx); err != nil {
		return nil, err
	}
	f.warmTime = time.Since(start)
	f.cacheHeap = max(liveHeap(), heapBefore) - heapBefore
	f.rss = residentBytes()
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
	f.portalTLS = httptest.NewTLSServer(h)
	f.hostTLS = strings.TrimPrefix(f.portalTLS.URL, "https://")
	f.bareTLS = httptest.NewTLSServer(bare)
	return f, nil
}

// plainClient is the client of the plain-HTTP figures: workers connections.
func plainClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

// load sends n requests from workers goroutines and returns the throughput
// and the 99th percentile latency. newReq builds request i.
func load(b *testing.B, n int, newReq func(i int) *http.Request, check func(*http.Response, []byte) error) (rps float64, p99 time.Duration, cpuPerReq time.Duration) {
	return loadWith(b, plainClient(workers), workers, n, newReq, check)
}

// loadWith is load over client with conns concurrent requests. The
// connections are opened (and, over TLS, handshaken) before the clock
// starts: the figures are of requests on open connections.
func loadWith(b *testing.B, client *http.Client, conns, n int, newReq func(i int) *http.Request, check func(*http.Response, []byte) error) (rps float64, p99 time.Duration, cpuPerReq time.Duration) {
	b.Helper()
	warm(b, client, conns, newReq)
	return closedLoop(b, conns, n, func(_, i int) (time.Duration, error) {
		req := newReq(i)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		return d, check(resp, body)
	})
}

// closedLoop sends n requests from workers goroutines, each sending its
// next once the last was answered; send sends request i on worker w and
// returns its latency. It returns the throughput, the 99th percentile
// latency and the process's CPU per request, and fails the benchmark at
// the first error.
func closedLoop(b *testing.B, workers, n int, send func(w, i int) (time.Duration, error)) (rps float64, p99, cpuPerReq time.Duration) {
	b.Helper()
	cpuBefore := processCPU()
	latencies := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				d, err := send(w, i)
				if err != nil {
					failed.Store(err)
					return
				}
				latencies[i] = d
			}
		})
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

// warm sends conns requests at once so that the client holds conns open
// connections.
func warm(b *testing.B, client *http.Client, conns int, newReq func(i int) *http.Request) {
	b.Helper()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Do(newReq(i))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
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
func bareLoad(b *testing.B, f *fixture, n int) (rps float64, p99, cpu time.Duration) {
	return bareLoadOn(b, f.bare, plainClient(workers), workers, n)
}

// bareLoadOn measures the baseline served by srv with conns connections.
// Its p99 is the reference for the portal's: the load generator runs in
// the same process, on the same two cores, so part of any request's
// latency is the wait for a core that the other clients and the servers
// hold, whatever the handler.
func bareLoadOn(b *testing.B, srv *httptest.Server, client *http.Client, conns, n int) (rps float64, p99, cpu time.Duration) {
	return loadWith(b, client, conns, n, func(i int) *http.Request {
		req, _ := http.NewRequest("POST", srv.URL+"/user", strings.NewReader(url.Values{"user": {randomUser(i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}, func(resp *http.Response, _ []byte) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bare handler answered %d", resp.StatusCode)
		}
		return nil
	})
}

func report(b *testing.B, f *fixture, rps float64, p99, cpu time.Duration, bareRPS float64, bareP99, bareCPU time.Duration) {
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu_us/req")
	b.ReportMetric(float64(bareCPU.Microseconds()), "bare_cpu_us/req")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(bareP99.Microseconds())/1000, "bare_p99_ms")
	b.ReportMetric(bareRPS, "bare_req/s")
	b.ReportMetric(rps/bareRPS, "ratio")
	b.ReportMetric(f.loadTime.Seconds(), "load_100k_s")
	b.ReportMetric(f.warmTime.Seconds(), "cache_warm_100k_s")
	b.ReportMetric(float64(f.cacheHeap)/(1<<20), "cache_heap_MB")
	b.ReportMetric(float64(f.rss)/(1<<20), "rss_MB")
}

// liveHeap is the Go heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// residentBytes is the process's resident set size (VmRSS), 0 where
// /proc does not tell.
func residentBytes() uint64 { return residentBytesOf("self") }

// residentBytesOf is the resident set size of the process pid ("self" for
// this one), 0 where /proc does not tell.
func residentBytesOf(pid string) uint64 {
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
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
	bareRPS, bareP99, bareCPU := bareLoad(b, f, n)
	report(b, f, rps, p99, cpu, bareRPS, bareP99, bareCPU)
}

// preauthV2 builds duo_api_golang's Preauth request (a v2-signed form
// POST) to the portal served by srv at host.
func preauthV2(f *fixture, srv *httptest.Server, host string) func(i int) *http.Request {
	return func(i int) *http.Request { return signedPreauthV2(f, srv.URL, host, randomUser(i)) }
}

// signedPreauthV2 is the preauth of username, to the portal at base
// (http://HOST:PORT) signed for host.
func signedPreauthV2(f *fixture, base, host, username string) *http.Request {
	body, date, authorization := signPreauthV2(f, host, username)
	req, _ := http.NewRequest("POST", base+"/auth/v2/preauth", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", authorization)
	return req
}

// signPreauthV2 signs the preauth of username for host, as duo_api_golang
// does: the form body and the Date and Authorization headers.
func signPreauthV2(f *fixture, host, username string) (body, date, authorization string) {
	params := url.Values{"username": {username}, "ipaddr": {"10.0.0.1"}}
	date = time.Now().UTC().Format(time.RFC1123Z)
	sig := duo.Sign(duo.SigV2, f.authAPI.ClientSecret, duo.CanonV2(date, "POST", host, "/auth/v2/preauth", duo.CanonParams(params)))
	return params.Encode(), date, "Basic " + base64.StdEncoding.EncodeToString([]byte(f.authAPI.ClientID+":"+sig))
}

func checkPreauthV2(resp *http.Response, body []byte) error {
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result":"auth"`) {
		return fmt.Errorf("preauth answered %d %q", resp.StatusCode, body)
	}
	return nil
}

// BenchmarkPreauthAuthAPIv2 is duo_api_golang's Preauth: a v2-signed form
// POST answered in JSON, over plain HTTP with 4 connections.
func BenchmarkPreauthAuthAPIv2(b *testing.B) {
	f := getFixture(b)
	n := requestsPerRun * b.N
	b.ResetTimer()
	rps, p99, cpu := load(b, n, preauthV2(f, f.portal, f.host), checkPreauthV2)
	b.StopTimer()
	bareRPS, bareP99, bareCPU := bareLoad(b, f, n)
	report(b, f, rps, p99, cpu, bareRPS, bareP99, bareCPU)
}

// BenchmarkPreauthAuthAPIv2TLS is the same over TLS with 16 connections,
// against the bare handler over TLS with 16 connections, both loaded by
// rawLoad: every request (signed within the portal's five minutes of
// clock skew) is built before the clock starts.
func BenchmarkPreauthAuthAPIv2TLS(b *testing.B) {
	f := getFixture(b)
	n := requestsPerRun * b.N
	portalReqs := make([]rawRequest, n)
	bareReqs := make([]rawRequest, n)
	for i := range n {
		body, date, authorization := signPreauthV2(f, f.hostTLS, randomUser(i))
		portalReqs[i] = buildRequest(f.hostTLS, "/auth/v2/preauth", body, "Date", date, "Authorization", authorization)
		bareReqs[i] = buildRequest(strings.TrimPrefix(f.bareTLS.URL, "https://"), "/user", url.Values{"user": {randomUser(i)}}.Encode())
	}
	b.ResetTimer()
	rps, p99, cpu := rawLoad(b, f.portalTLS, tlsWorkers, portalReqs, func(status int, body []byte) error {
		if status != http.StatusOK || !bytes.Contains(body, []byte(`"result":"auth"`)) {
			return fmt.Errorf("preauth answered %d %q", status, body)
		}
		return nil
	})
	b.StopTimer()
	bareRPS, bareP99, bareCPU := rawLoad(b, f.bareTLS, tlsWorkers, bareReqs, func(status int, _ []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("bare handler answered %d", status)
		}
		return nil
	})
	report(b, f, rps, p99, cpu, bareRPS, bareP99, bareCPU)
}

// mkdirTemp makes the shared fixture's directory; TestMain removes it, as
// the benchmarks share it across functions.
func mkdirTemp() (string, error) { return os.MkdirTemp("", "bench-duo-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.portal.Close()
		shared.bare.Close()
		shared.portalTLS.Close()
		shared.bareTLS.Close()
		shared.app.Close()
		os.RemoveAll(shared.dir)
	}
	removePortalBuild()
	os.Exit(code)
}
