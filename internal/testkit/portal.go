package testkit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/app"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/config"
	"enrollportal/internal/org"
	"enrollportal/internal/testkit/logbuf"
	"enrollportal/internal/testkit/testdb"
)

// Start is the fake clock's starting time in every test portal.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Portal is a running test portal.
type Portal struct {
	*app.App
	Clock   *clock.Fake
	Handler http.Handler
	// URL is the base URL (http://localhost:PORT) when started with Serve,
	// else "http://localhost".
	URL  string
	Logs *SafeBuffer
	// served: Serve started a server at URL (clients go over the network).
	served bool
	// stopJobs stops the portal's job runner (as serve runs it).
	stopJobs func()
}

// Option changes the settings of a test portal before it opens.
type Option func(*config.Settings)

// WithBaseURL sets the portal's public URL.
func WithBaseURL(u string) Option { return func(s *config.Settings) { s.BaseURL = u } }

// New opens a portal on a fresh database in t.TempDir(), without a server:
// drive p.Handler with httptest.
func New(t testing.TB, opts ...Option) *Portal {
	t.Helper()
	return open(t, "http://localhost", opts...)
}

// Serve opens a portal and serves it on a loopback port, for browsers and
// real clients. The base URL is http://localhost:PORT.
func Serve(t testing.TB, opts ...Option) *Portal {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	p := open(t, base, opts...)
	p.served = true
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: p.Handler}}
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

func open(t testing.TB, base string, opts ...Option) *Portal {
	t.Helper()
	dir := t.TempDir()
	s := config.Settings{
		DB: filepath.Join(dir, "portal.db"), BaseURL: base, Addr: "127.0.0.1:0",
		SecretKeyFile: filepath.Join(dir, "secret.key"), LogLevel: "debug", OrgName: "Example Org",
	}
	// PORTAL_TEST_DB=postgres runs the test portals on PostgreSQL (see
	// testdb), to run a package's tests on that backend.
	if testdb.OnPostgres() {
		s.DB = testdb.New(t)
	}
	for _, o := range opts {
		o(&s)
	}
	fc := clock.NewFake(Start)
	logs := &SafeBuffer{}
	a, err := app.Open(context.Background(), s, app.Options{Clock: fc, LogOut: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	// The job runner runs as in serve, so that a bulk send or an import
	// started by a page goes on in the background.
	jobsCtx, cancel := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		a.Jobs.Run(jobsCtx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-jobsDone
		})
	}
	t.Cleanup(stop)
	return &Portal{App: a, Clock: fc, Handler: h, URL: s.BaseURL, Logs: logs, stopJobs: stop}
}

// StopJobRunner stops the portal's job runner, for tests that run jobs
// elsewhere (a child process, or Jobs.Finish in the test).
func (p *Portal) StopJobRunner() { p.stopJobs() }

// SafeBuffer is a bytes.Buffer safe for concurrent writes, for logs
// (defined in logbuf, which tests of testkit's own dependencies can import).
type SafeBuffer = logbuf.SafeBuffer

// SaveSettings saves an organisation setting change as the command line
// would, failing the test on error.
func (p *Portal) SaveSettings(t testing.TB, ch org.Change) {
	t.Helper()
	if _, err := p.Org.Save(context.Background(), ch, audit.CLI(), p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
}
