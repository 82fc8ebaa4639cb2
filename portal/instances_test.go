package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"enrollportal/internal/config"
	"enrollportal/internal/testkit"
)

// cluster is several real `portal serve` processes (the test binary started
// again as the command, see TestMain) on one database with one key file,
// behind a round-robin reverse proxy that terminates TLS, as a load
// balancer in front of a deployment does: consecutive requests reach
// different instances.
type cluster struct {
	// URL is the proxy's https://localhost:PORT, every instance's base URL.
	URL   string
	Host  string // localhost:PORT, the api_host of Duo clients
	Files testkit.TLSFiles
	Inbox *testkit.Inbox
	// Handle is a portal opened in the test on the same database and key,
	// for setting up and reading back what the instances did; its job
	// runner is stopped so that the instances do the work.
	Handle *testkit.Portal
	Proxy  *roundRobin
	procs  []*instanceProc
	env    []string
	// keyFile is the key the handle wrote; keyPerInstance gives each
	// instance a copy in a directory of its own, as on separate machines.
	keyFile        string
	keyPerInstance bool
}

// instanceProc is one `portal serve` process.
type instanceProc struct {
	cmd    *exec.Cmd
	addr   string
	out    *testkit.SafeBuffer
	exited chan struct{}
}

// clusterOption changes a cluster before its instances start.
type clusterOption func(*cluster)

// withInbox delivers the instances' emails to in.
func withInbox(in *testkit.Inbox) clusterOption { return func(c *cluster) { c.Inbox = in } }

// withKeyPerInstance gives each instance its own copy of the key file, in a
// directory of its own (as on separate machines), rather than one shared
// path, so that nothing kept beside the key file is shared.
func withKeyPerInstance() clusterOption { return func(c *cluster) { c.keyPerInstance = true } }

// newCluster starts n instances on the database db (a SQLite file path, or
// a database URL) behind the proxy.
func newCluster(t *testing.T, db string, n int, opts ...clusterOption) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := &cluster{Files: testkit.NewTLSFiles(t)}
	for _, o := range opts {
		o(c)
	}
	if c.Inbox == nil {
		c.Inbox = testkit.NewInbox(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Host = "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	c.URL = "https://" + c.Host
	keyFile := filepath.Join(dir, "secret.key")
	c.keyFile = keyFile
	// The handle opens (and migrates) the database and writes the key file
	// first, so the instances start on a ready database with the same key.
	c.Handle = testkit.New(t, testkit.WithBaseURL(c.URL), func(s *config.Settings) {
		s.DB, s.SecretKeyFile = db, keyFile
	})
	c.Handle.StopJobRunner()
	// The instances run on the wall clock; so does the handle.
	c.Handle.Clock.Set(time.Now())
	c.env = append(os.Environ(), serveChildEnv+"=1", "PORTAL_DB="+db, "PORTAL_SECRET_KEY_FILE="+keyFile,
		"PORTAL_BASE_URL="+c.URL, "PORTAL_SMTP_URL=smtp://"+c.Inbox.Addr, "PORTAL_MAIL_FROM=portal@example.org",
		"PORTAL_LOG_LEVEL=debug", "PORTAL_SHUTDOWN_GRACE=5s", "PORTAL_TRUSTED_PROXIES=127.0.0.1")
	backends := make([]string, n)
	for i := range n {
		p := c.startInstance(t)
		backends[i] = p.addr
	}
	c.Proxy = newRoundRobin(backends)
	cert, err := tls.LoadX509KeyPair(c.Files.CertFile, c.Files.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: c.Proxy},
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return c
}

// startInstance starts one more `portal serve` on a free loopback port and
// waits until it answers /readyz.
func (c *cluster) startInstance(t *testing.T) *instanceProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &instanceProc{addr: ln.Addr().String(), out: &testkit.SafeBuffer{}, exited: make(chan struct{})}
	ln.Close()
	p.cmd = exec.Command(exe, "serve")
	p.cmd.Env = append(c.env, "PORTAL_ADDR="+p.addr)
	if c.keyPerInstance {
		key, err := os.ReadFile(c.keyFile)
		if err != nil {
			t.Fatal(err)
		}
		own := filepath.Join(t.TempDir(), "secret.key")
		if err := os.WriteFile(own, key, 0o600); err != nil {
			t.Fatal(err)
		}
		// The last of duplicate variables wins (os/exec).
		p.cmd.Env = append(p.cmd.Env, "PORTAL_SECRET_KEY_FILE="+own)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("instance %s wrote:\n%s", p.addr, p.out.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("portal serve exited: %s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("portal serve never got ready on %s: %v; it wrote: %s", p.addr, err, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.procs = append(c.procs, p)
	return p
}

// Logs is what instance i has written so far.
func (c *cluster) Logs(i int) string { return c.procs[i].out.String() }

// Kill ends instance i with SIGKILL: no shutdown, no hand-back.
func (c *cluster) Kill(t *testing.T, i int) {
	t.Helper()
	if err := c.procs[i].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.procs[i].exited
	// A balancer learns of a dead server from its connections failing;
	// idle ones to the killed instance would fail a request midway.
	c.Proxy.transport.CloseIdleConnections()
}

// Client is an HTTPS client of the proxy that trusts the test CA.
func (c *cluster) Client() *http.Client { return c.Files.Client() }

// roundRobin is the test's load balancer: each request goes to the next
// instance in turn. An instance that refuses the connection (killed) is
// skipped for the next one, as a balancer's health check would take it
// out, so the test can kill one mid-way.
type roundRobin struct {
	proxy    *httputil.ReverseProxy
	backends []string
	// transport keeps the connections to the instances.
	transport *http.Transport
	next      atomic.Uint64
	mu        sync.Mutex
	hits      map[string]int
}

func newRoundRobin(backends []string) *roundRobin {
	rr := &roundRobin{backends: backends, hits: map[string]int{}, transport: http.DefaultTransport.(*http.Transport).Clone()}
	rr.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "backend"})
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: rr,
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) { rr.proxy.ServeHTTP(w, r) }

// RoundTrip sends the request to the next instance, or the one after when
// that one refuses the connection. The body is read first (the portal's
// forms and API calls are small) so that it can be sent again.
func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	start := rr.next.Add(1)
	var lastErr error
	for i := range uint64(len(rr.backends)) {
		backend := rr.backends[(start+i)%uint64(len(rr.backends))]
		out := r.Clone(r.Context())
		out.URL.Host = backend
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := rr.transport.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			lastErr = err
			continue
		}
		if err == nil {
			rr.mu.Lock()
			rr.hits[backend]++
			rr.mu.Unlock()
		}
		return resp, err
	}
	return nil, lastErr
}

// Hits is how many requests each instance answered.
func (rr *roundRobin) Hits() map[string]int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	out := make(map[string]int, len(rr.hits))
	for k, v := range rr.hits {
		out[k] = v
	}
	return out
}

// wantBothServed fails the test unless every instance answered requests.
func (c *cluster) wantBothServed(t *testing.T) {
	t.Helper()
	hits := c.Proxy.Hits()
	for _, p := range c.procs {
		if hits[p.addr] == 0 {
			t.Errorf("instance %s answered no request through the proxy (hits %v)", p.addr, hits)
		}
	}
}
