package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/testkit"
)

func TestServeHTTPSWithTLSCertAndKey(t *testing.T) {
	files := testkit.NewTLSFiles(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"PORTAL_DB": filepath.Join(t.TempDir(), "portal.db"), "PORTAL_ADDR": addr,
		"PORTAL_TLS_CERT": files.CertFile, "PORTAL_TLS_KEY": files.KeyFile,
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs testkit.SafeBuffer // the server logs while the test reads
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &logs, getenv: func(k string) string { return env[k] }}
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, e, []string{"serve"}) }()
	defer func() {
		cancel()
		select {
		case code := <-exited:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()

	base := "https://localhost:" + strings.Split(addr, ":")[1]
	client := files.Client()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(base + "/auth/v2/ping")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var ping struct {
				Stat     string
				Response struct{ Time int64 }
			}
			if json.Unmarshal(body, &ping) != nil || ping.Stat != "OK" || ping.Response.Time == 0 || resp.TLS == nil {
				t.Fatalf("ping over HTTPS answered %d %q", resp.StatusCode, body)
			}
			if !strings.Contains(logs.String(), `"tls":true`) || !strings.Contains(logs.String(), base) {
				t.Errorf("the start log does not say it serves %s over TLS: %s", base, logs.String())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS answer from %s: %v; logs: %s", base, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
