package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"enrollportal/internal/secret"
	"enrollportal/internal/testkit/logbuf"
)

// serving is a `portal serve` running in this process, as the binary runs it.
type serving struct {
	logs  *logbuf.SafeBuffer
	stop  func() int
	addrs map[string]string // the "addr" of each start log line, by message
}

// startServe runs `portal serve` with env and waits until it listens (and,
// when PORTAL_METRICS_ADDR is set, until the metrics listener does too).
func startServe(t *testing.T, env map[string]string) *serving {
	t.Helper()
	s := &serving{logs: &logbuf.SafeBuffer{}, addrs: map[string]string{}}
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

// newPortalFiles makes a database in use (one user, one application, so
// that sealed secrets exist) with its key file, as an installed portal has.
func newPortalFiles(t *testing.T) (env map[string]string, dbPath, keyPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath, keyPath = filepath.Join(dir, "portal.db"), filepath.Join(dir, "secret.key")
	env = map[string]string{"PORTAL_DB": dbPath, "PORTAL_ADDR": "127.0.0.1:0", "PORTAL_BASE_URL": "https://mfa.example.com"}
	if r := runCLI(t, env, "users", "add", "alice"); r.code != 0 {
		t.Fatalf("users add: %+v", r)
	}
	if r := runCLI(t, env, "apps", "add", "--name", "VPN", "--kind", "auth-api"); r.code != 0 {
		t.Fatalf("apps add: %+v", r)
	}
	return env, dbPath, keyPath
}

// serveMustRefuse runs `portal serve`, which must exit at once with code 1
// and say every one of want on stderr.
func serveMustRefuse(t *testing.T, env map[string]string, want ...string) {
	t.Helper()
	r := serveBriefly(t, env)
	if r.code != 1 {
		t.Fatalf("serve exited %d, want 1:\n%s", r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("serve's error lacks %q:\n%s", w, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "portal listening") {
		t.Errorf("serve listened before refusing:\n%s", r.stderr)
	}
}

// serveBriefly runs `portal serve`, stopping it after 20 seconds if it
// started (a start that should have been refused), and returns how it ended.
func serveBriefly(t *testing.T, env map[string]string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut logbuf.SafeBuffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	code := run(ctx, e, []string{"serve"})
	return result{code, out.String(), errOut.String()}
}

func sqlExec(t *testing.T, dbPath, query string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesAMissingOrDifferentKey(t *testing.T) {
	env, dbPath, keyPath := newPortalFiles(t)
	original, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	// The key file is gone: no new key beside a database in use.
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	serveMustRefuse(t, env, "key file "+keyPath+" is missing", dbPath, "Restore the key file")
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve created a key beside a database in use: %v", err)
	}

	// Another key: refused by the check value.
	other := hex.EncodeToString(secret.RandomKey()) + "\n"
	if err := os.WriteFile(keyPath, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	serveMustRefuse(t, env, "is not the key of the database "+dbPath)

	// A database from before the check value: the other key does not open
	// its sealed secrets, so it is refused too.
	sqlExec(t, dbPath, `DELETE FROM key_check`)
	serveMustRefuse(t, env, "does not open the secrets stored in the database")

	// The right key serves, and records the check value again.
	if err := os.WriteFile(keyPath, original, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, env)
	if c := s.stop(); c != 0 {
		t.Fatalf("serve with the right key exited %d:\n%s", c, s.logs.String())
	}
	if err := os.WriteFile(keyPath, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	serveMustRefuse(t, env, "is not the key of the database")
}

func TestServeCreatesAKeyOnlyForANewDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PORTAL_DB": filepath.Join(dir, "portal.db"), "PORTAL_ADDR": "127.0.0.1:0"}
	s := startServe(t, env)
	if c := s.stop(); c != 0 {
		t.Fatalf("first start exited %d:\n%s", c, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), "created the at-rest encryption key") {
		t.Fatalf("the first start did not say it created the key:\n%s", s.logs.String())
	}
	// The check value is recorded at once: even an empty database that
	// has had a key refuses to go on without it.
	os.Remove(filepath.Join(dir, "secret.key"))
	serveMustRefuse(t, env, "is missing")
}

func TestServeRefusesANewerDatabase(t *testing.T) {
	env, dbPath, _ := newPortalFiles(t)
	sqlExec(t, dbPath, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`)
	serveMustRefuse(t, env, "schema version 99999", "this portal knows schema versions up to ", "newer than this portal")
}

// TestServeRefusesADatabaseWithAMigrationItLacks: a schema version below
// the newest this portal knows but not one of its own (migrations are
// numbered in tens, and helpers' numbers land out of order) means another
// build migrated the database; it is refused as a newer one is.
func TestServeRefusesADatabaseWithAMigrationItLacks(t *testing.T) {
	env, dbPath, _ := newPortalFiles(t)
	sqlExec(t, dbPath, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, 1)`)
	serveMustRefuse(t, env, "schema version 2, which this portal does not have", "this portal knows schema versions up to ")
	if r := runCLI(t, env, "users", "add", "bob"); r.code != 1 || !strings.Contains(r.stderr, "schema version 2") {
		t.Fatalf("users add on that database: %+v", r)
	}
}

// makeReadOnly makes path (a file or a directory) read-only for the portal
// until the test ends. As root, which permissions do not stop, it
// bind-mounts path read-only over itself, so writes meet a read-only file
// system; otherwise it takes the write permission away.
func makeReadOnly(t *testing.T, path string) (readOnlyFS bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, info.Mode().Perm()&^0o222); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, info.Mode().Perm()) })
		return false
	}
	if err := syscall.Mount(path, path, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(path, 0); err != nil {
			t.Errorf("unmount %s: %v", path, err)
		}
	})
	if err := syscall.Mount("", path, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", path, err)
	}
	return true
}

func TestServeSaysWhenTheDatabaseCannotBeWritten(t *testing.T) {
	t.Run("read-only database file", func(t *testing.T) {
		env, dbPath, _ := newPortalFiles(t)
		roFS := makeReadOnly(t, dbPath)
		want := []string{"database " + dbPath + " cannot be written"}
		if roFS {
			want = append(want, "read-only")
		} else {
			want = append(want, "permission denied")
		}
		serveMustRefuse(t, env, want...)
	})
	t.Run("read-only file system", func(t *testing.T) {
		env, dbPath, _ := newPortalFiles(t)
		dir := filepath.Dir(dbPath)
		roFS := makeReadOnly(t, dir)
		r := serveBriefly(t, env)
		if r.code != 1 || strings.Contains(r.stderr, "no such file or directory") {
			t.Fatalf("serve exited %d:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, dbPath) {
			t.Errorf("the error does not name the database:\n%s", r.stderr)
		}
		if roFS && !strings.Contains(r.stderr, "the file system is mounted read-only") {
			t.Errorf("the error does not say the file system is read-only:\n%s", r.stderr)
		}
	})
}

func TestUsersAddRefusesNULAndInvalidUTF8(t *testing.T) {
	env := map[string]string{"PORTAL_DB": filepath.Join(t.TempDir(), "portal.db")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "add", "carol", "--realname", "Carol\x00Jones"}, "The real name field contains a NUL character"},
		{[]string{"users", "add", "carol", "--realname", "Caf\xe9"}, "The real name field is not valid UTF-8"},
		{[]string{"users", "add", "ca\x00rol"}, "a username is 1 to 100 characters"},
	} {
		r := runCLI(t, env, c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, want 1 with %q:\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
}
