package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"enrollportal/internal/app"
	"enrollportal/internal/config"
	"enrollportal/internal/store"
)

// Environment of a worker child: the test binary started again as a portal
// process that runs the job runner and the outbox worker on a test portal's
// database, until it is killed.
const (
	childSettingsEnv = "PORTAL_TEST_WORKER_SETTINGS"
	childKillEnv     = "PORTAL_TEST_WORKER_KILL_AFTER_ROWS"
)

// RunWorkerChildIfAsked is for the TestMain of packages that start worker
// children: in such a child it runs the workers and never returns; in the
// test process it does nothing.
func RunWorkerChildIfAsked() {
	raw := os.Getenv(childSettingsEnv)
	if raw == "" {
		return
	}
	var s config.Settings
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		fmt.Fprintln(os.Stderr, "worker child:", err)
		os.Exit(3)
	}
	var o app.Options
	o.LogOut = os.Stderr
	if n, err := strconv.Atoi(os.Getenv(childKillEnv)); err == nil {
		// Die the hard way right after the step that passes row n commits,
		// as a crash or kill -9 would.
		o.AfterJobStep = func(j store.Job) {
			if j.Cursor >= n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	ctx := context.Background()
	a, err := app.Open(ctx, s, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker child:", err)
		os.Exit(3)
	}
	go a.Notify.Run(ctx)
	a.Jobs.Run(ctx)
	os.Exit(0)
}

// WorkerChild is a running worker child.
type WorkerChild struct {
	cmd  *exec.Cmd
	done chan error
}

// StartWorkerChild starts a worker child on p's database (and its SMTP and
// SMS settings). With killAfterRows > 0 the child kills itself with SIGKILL
// after the job step that passes that row. The child is killed when the
// test ends.
func StartWorkerChild(t testing.TB, p *Portal, killAfterRows int) *WorkerChild {
	t.Helper()
	raw, err := json.Marshal(p.Settings)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childSettingsEnv+"="+string(raw))
	if killAfterRows > 0 {
		cmd.Env = append(cmd.Env, childKillEnv+"="+strconv.Itoa(killAfterRows))
	}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &WorkerChild{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	return c
}

// Kill kills the child with SIGKILL and waits until it is gone.
func (c *WorkerChild) Kill(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	c.WaitKilled(t)
}

// WaitKilled waits until the child died of SIGKILL, and fails the test when
// it ended otherwise or lived on for a minute.
func (c *WorkerChild) WaitKilled(t testing.TB) {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("worker child ended with %v, want killed", err)
		}
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("worker child ended with %v, want killed by SIGKILL", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("worker child still running after a minute")
	}
}

// Restart opens a second portal on p's database and key, as the next start
// of the portal after a crash; it is closed when the test ends.
func Restart(t testing.TB, p *Portal) *Portal {
	t.Helper()
	s := p.Settings
	return open(t, s.BaseURL, func(dst *config.Settings) { *dst = s })
}

// FinishAfterRestart starts the portal again on p's database (Restart) and
// waits, at most a minute, until the job id is finished there, as the next
// start after a crash would finish it. It fails the test on error.
func FinishAfterRestart(t testing.TB, p *Portal, id int64) (*Portal, store.Job) {
	t.Helper()
	again := Restart(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := again.Jobs.Finish(ctx, id)
	if err != nil {
		t.Fatalf("finishing job %d after the restart: %v", id, err)
	}
	return again, j
}

// Count runs a COUNT query on p's database, failing the test on error.
func Count(t testing.TB, p *Portal, query string, args ...any) int {
	t.Helper()
	var n int
	if err := p.Store.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
