package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serving is a `portal serve` running in this process, as the binary runs it.
type serving struct {
	logs  *lockedBuffer
	stop  func() int
	addrs map[string]string // the "addr" of each start log line, by message
}

// startServe runs `portal serve` with env and waits until it listens (and,
// when PORTAL_METRICS_ADDR is set, until the metrics listener does too).
func startServe(t *testing.T, env map[string]string) *serving {
	t.Helper()
	s := &serving{logs: &lockedBuffer{}, addrs: map[string]string{}}
	e := &cliEnv{stdin: strings.NewReader(""), stdout: s.logs, stderr: s.logs, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, e, []string{"serve"}) }()
	stopped := false
	exit := 0
	s.stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case exit = <-code:
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not stop")
			}
		}
		return exit
	}
	t.Cleanup(func() { s.stop() })
	want := []string{"portal listening"}
	if env["PORTAL_METRICS_ADDR"] != "" {
		want = append(want, "metrics listening")
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Addr != "" {
				s.addrs[rec.Msg] = rec.Addr
			}
		}
		done := true
		for _, w := range want {
			done = done && s.addrs[w] != ""
		}
		if done {
			return s
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d before listening:\n%s", c, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeMetricsOnTheirOwnListener(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, map[string]string{
		"PORTAL_DB": dir + "/portal.db", "PORTAL_ADDR": "127.0.0.1:0", "PORTAL_METRICS_ADDR": "127.0.0.1:0",
	})
	main, metrics := "http://"+s.addrs["portal listening"], "http://"+s.addrs["metrics listening"]
	if code, _ := get(t, main+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	code, body := get(t, metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `portal_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("metrics listener: %d\n%s", code, body)
	}
	// With a listener of their own, the main one does not serve them, not
	// even to this machine; and the metrics listener serves nothing else.
	if code, _ := get(t, main+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("main listener /metrics: %d, want 404", code)
	}
	if code, _ := get(t, metrics+"/healthz"); code != http.StatusNotFound {
		t.Fatalf("metrics listener /healthz: %d, want 404", code)
	}
	if c := s.stop(); c != 0 {
		t.Fatalf("serve exited %d:\n%s", c, s.logs.String())
	}
}
