package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/testkit/logbuf"
)

// TestServeSaysMessagesWaitWithoutDelivery starts the real serve command with
// no SMTP or SMS settings: it must say so at start, and stop cleanly (the
// outbox worker included) when told to.
func TestServeSaysMessagesWaitWithoutDelivery(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PORTAL_DB": filepath.Join(dir, "portal.db"), "PORTAL_ADDR": "127.0.0.1:0"}
	var logs logbuf.SafeBuffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &logs, stderr: &logs, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, e, []string{"serve"}) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "no SMS gateway configured") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("serve exited %d:\n%s", c, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, want := range []string{"no SMTP server configured (PORTAL_SMTP_URL); emails stay in the outbox", "SMS stay in the outbox"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("serve did not say %q:\n%s", want, logs.String())
		}
	}
}

func TestServeRefusesMalformedSMTPURL(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PORTAL_DB": filepath.Join(dir, "portal.db"), "PORTAL_ADDR": "127.0.0.1:0",
		"PORTAL_SMTP_URL": "mail.example.org:587", "PORTAL_MAIL_FROM": "portal@example.org"}
	r := runCLI(t, env, "serve")
	if r.code == 0 || !strings.Contains(r.stderr, "PORTAL_SMTP_URL must start with smtp://, smtps:// or smtp+insecure://") {
		t.Fatalf("serve with a bad SMTP URL: %+v", r)
	}
}
