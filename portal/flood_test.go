package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/testkit"
)

// serveChildEnv makes the test binary, started again by a test, run
// "portal serve" as the real command would, so that a test can measure the
// process from outside.
const serveChildEnv = "PORTAL_TEST_SERVE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) == "1" {
		main() // os.Args is [binary serve]
	}
	os.Exit(m.Run())
}

// startServeChild starts portal serve in a process of its own on a free
// loopback port, on a new database of the backend under test, and waits
// until it answers. It returns the process and its
// base URL.
func startServeChild(t *testing.T) (*os.Process, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://localhost:" + strings.Split(addr, ":")[1] // WebAuthn wants a domain
	files := newDBFiles(t)
	cmd := exec.Command(exe, "serve")
	cmd.Env = append(os.Environ(), serveChildEnv+"=1", "PORTAL_DB="+files.db, "PORTAL_SECRET_KEY_FILE="+files.key, "PORTAL_ADDR="+addr,
		"PORTAL_BASE_URL="+base, "PORTAL_LOG_LEVEL=error")
	var out testkit.SafeBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/auth/v2/ping")
		if err == nil {
			resp.Body.Close()
			return cmd.Process, base
		}
		select {
		case <-exited:
			t.Fatalf("portal serve exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("portal serve never answered on %s: %v; it wrote: %s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peakRSS reads the process's high-water resident set size in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// signInClient is a browser at a loopback address of its own (Linux routes
// all of 127.0.0.0/8 to lo), so that the per-address limit sees 200 people.
func signInClient(t *testing.T, i int) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))}
	dialer := &net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// The argon2 flood: 200 sign-ins at once with unknown emails from 200
// addresses took the heap to 3.9 GB (each hash needs 19 MiB). Hashes are
// bounded by the CPUs; the excess waits briefly, then gets 429 with
// Retry-After. The whole process stays under 300 MB.
func TestSignInFloodKeepsServeUnder300MB(t *testing.T) {
	proc, base := startServeChild(t)
	const n = 200
	clients := make([]*http.Client, n)
	tokens := make([]string, n)
	for i := range n {
		clients[i] = signInClient(t, i)
		resp, err := clients[i].Get(base + "/admin/signin")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfField.FindSubmatch(body)
		if err != nil || m == nil {
			t.Fatalf("sign-in page %d: %d %v", i, resp.StatusCode, err)
		}
		tokens[i] = string(m[1])
	}
	type answer struct {
		code       int
		retryAfter string
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			form := url.Values{"csrf_token": {tokens[i]}, "email": {fmt.Sprintf("nobody%d@example.org", i)}, "password": {"a guessed password"}}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/admin/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := clients[i].Do(req)
			if err != nil {
				t.Errorf("sign-in %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers[i] = answer{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	close(start)
	wg.Wait()
	rss := peakRSS(t, proc.Pid)
	counts := map[int]int{}
	for i, a := range answers {
		counts[a.code]++
		switch {
		case a.code == http.StatusUnauthorized:
		case a.code == http.StatusTooManyRequests && a.retryAfter != "":
		default:
			t.Errorf("sign-in %d answered %d (Retry-After %q), want 401, or 429 with Retry-After", i, a.code, a.retryAfter)
		}
	}
	t.Logf("%d parallel sign-ins: answers %v, peak RSS of portal serve %.1f MB", n, counts, float64(rss)/(1<<20))
	if rss >= 300<<20 {
		t.Fatalf("peak RSS %.1f MB, want under 300 MB", float64(rss)/(1<<20))
	}
}
