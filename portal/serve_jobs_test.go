package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/bulk"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/testkit/logbuf"
)

// TestServeStopsAJobBetweenStepsAndTheNextStartFinishesIt runs the real
// serve command on a database with a bulk enrollment of 5,000 users waiting,
// and stops it (as SIGTERM does) while the send runs: serve lets the job go
// after its current step, within the grace period, and the next start
// finishes it, with every user created, linked and emailed exactly once.
func TestServeStopsAJobBetweenStepsAndTheNextStartFinishesIt(t *testing.T) {
	p := testkit.New(t)
	p.StopJobRunner() // serve runs the job
	ctx := context.Background()
	const n = 5000
	rows := make([]bulk.Row, n)
	for i := range rows {
		rows[i] = bulk.Row{Line: i + 1, Username: fmt.Sprintf("stop%04d", i), Email: fmt.Sprintf("stop%04d@example.com", i)}
	}
	id, err := p.Bulk.Start(ctx, rows, notify.DefaultEnrollment, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"PORTAL_DB": p.Settings.DB, "PORTAL_SECRET_KEY_FILE": p.Settings.SecretKeyFile,
		"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_SHUTDOWN_GRACE": "20s"}
	var logs logbuf.SafeBuffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &logs, stderr: &logs, getenv: func(k string) string { return env[k] }}
	serveCtx, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- run(serveCtx, e, []string{"serve"}) }()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if j, err := p.Store.JobByID(ctx, id); err == nil && j.Cursor > 0 {
			break
		}
	}
	stop()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("serve exited %d:\n%s", c, logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	j, err := p.Store.JobByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobRunning || j.Cursor == 0 || j.Cursor >= n || j.Owner != "" {
		t.Fatalf("after the stop the job is %s at %d of %d, held by %q; want running part-way and let go", j.Status, j.Cursor, n, j.Owner)
	}
	if !strings.Contains(logs.String(), `"grace":"20s"`) {
		t.Errorf("serve did not say its grace period:\n%s", logs.String())
	}

	again := testkit.Restart(t, p)
	finishCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if j, err = again.Jobs.Finish(finishCtx, id); err != nil || j.Status != store.JobDone {
		t.Fatalf("after the restart: %+v %v", j, err)
	}
	for what, query := range map[string]string{
		"users":  `SELECT COUNT(*) FROM users`,
		"links":  `SELECT COUNT(*) FROM enrollment_links`,
		"emails": `SELECT COUNT(DISTINCT recipient) || '/' || COUNT(*) FROM outbox`,
	} {
		var got string
		if err := again.Store.SQL().QueryRow(query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(n)
		if what == "emails" {
			want = fmt.Sprintf("%d/%d", n, n)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", what, got, want)
		}
	}
}

func TestServeRefusesABadShutdownGrace(t *testing.T) {
	env := map[string]string{"PORTAL_DB": filepath.Join(t.TempDir(), "portal.db"), "PORTAL_ADDR": "127.0.0.1:0", "PORTAL_SHUTDOWN_GRACE": "soon"}
	r := runCLI(t, env, "serve")
	if r.code == 0 || !strings.Contains(r.stderr, `PORTAL_SHUTDOWN_GRACE "soon" must be a duration such as 30s`) {
		t.Fatalf("serve with a bad grace: %+v", r)
	}
}
