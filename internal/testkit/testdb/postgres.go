package testdb

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"enrollportal/internal/store/postgres"
)

// postgresCluster is the one PostgreSQL server of a test binary, started by
// the first StartPostgres and stopped when the binary exits.
var postgresCluster struct {
	once sync.Once
	url  string // postgres://postgres@127.0.0.1:PORT/ (database to add)
	err  error
	dbs  atomic.Int64
	// The database migrated once per test binary, that StartPostgresMigrated
	// copies (CREATE DATABASE ... TEMPLATE): a copy takes a fraction of
	// the time that applying every migration to each test's database did.
	templateOnce sync.Once
	templateErr  error
}

// templateName is the migrated database that new test databases copy.
const templateName = "portal_template"

// postgresBin finds a PostgreSQL program: on PATH, else in Debian's
// versioned directory (the newest).
func postgresBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		return "", fmt.Errorf("%s not found: install PostgreSQL 15 or newer (Debian: apt-get install postgresql; `make test` does)", name)
	}
	return matches[len(matches)-1], nil
}

// StartPostgres returns the URL of a new, empty database on a throwaway
// PostgreSQL server: one server (initdb in a temporary directory, fsync
// off) per test binary, one database per call, dropped when the test ends.
// Under CI=true a missing PostgreSQL fails the test, as it does anywhere:
// it is never skipped.
func StartPostgres(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "")
}

// StartPostgresMigrated is StartPostgres with the portal's schema in the
// new database, as the portal's migrations leave it: a copy of a database
// migrated once per test binary.
func StartPostgresMigrated(t testing.TB) string {
	t.Helper()
	c := &postgresCluster
	c.once.Do(func() { c.url, c.err = startPostgresCluster() })
	if c.err != nil {
		t.Fatalf("start PostgreSQL: %v", c.err)
	}
	c.templateOnce.Do(func() { c.templateErr = migrateTemplate(c.url) })
	if c.templateErr != nil {
		t.Fatalf("migrate the template database: %v", c.templateErr)
	}
	return createDatabase(t, " TEMPLATE "+templateName)
}

// migrateTemplate makes the template database and applies the migrations
// to it; closing the store ends its connections, as a copy requires.
func migrateTemplate(url string) error {
	if err := postgresAdmin(url, `CREATE DATABASE `+templateName); err != nil {
		return err
	}
	db, err := postgres.Open(context.Background(), url+templateName)
	if err != nil {
		return err
	}
	return db.Close()
}

// createDatabase adds a database (with the CREATE DATABASE options opts)
// to the test binary's server, dropped when the test ends.
func createDatabase(t testing.TB, opts string) string {
	t.Helper()
	c := &postgresCluster
	c.once.Do(func() { c.url, c.err = startPostgresCluster() })
	if c.err != nil {
		t.Fatalf("start PostgreSQL: %v", c.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	if err := postgresAdmin(c.url, `CREATE DATABASE `+name+opts); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		// WITH (FORCE) ends the connections a portal under test left open.
		if err := postgresAdmin(c.url, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return c.url + name
}

func startPostgresCluster() (string, error) {
	initdb, err := postgresBin("initdb")
	if err != nil {
		return "", err
	}
	server, err := postgresBin("postgres")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "portal-pg-*")
	if err != nil {
		return "", err
	}
	// PostgreSQL refuses to run as root: as root, the server runs as the
	// postgres user of Debian's package.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"runuser", "-u", "postgres", "--"}
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			return "", fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	// C locale: text compares byte-wise, as in SQLite.
	args := append(append([]string{}, asUser...), initdb, "-D", data, "-A", "trust", "-U", "postgres",
		"--no-sync", "--locale=C", "--encoding=UTF8")
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	// The server lives as long as this test binary: a shell holds it and
	// reads its stdin, a pipe of ours; when the binary exits (however), the
	// pipe closes, and the shell stops the server and removes the directory.
	// The signal goes to the postmaster itself (its pid is the first line of
	// postmaster.pid): runuser does not pass SIGQUIT on.
	cmdline := strings.Join(append(append([]string{}, asUser...), server, "-D", data, "-k", dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200"), " ")
	sh := exec.Command("sh", "-c", cmdline+` >"$0/log" 2>&1 & pid=$!; cat >/dev/null; kill -QUIT "$(head -n 1 "$0/data/postmaster.pid")" || kill -QUIT $pid; wait $pid; rm -rf "$0"`, dir)
	stdin, err := sh.StdinPipe()
	if err != nil {
		return "", err
	}
	if err := sh.Start(); err != nil {
		return "", err
	}
	keepOpen = append(keepOpen, stdin)
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), url+"postgres")
		if err == nil {
			conn.Close(context.Background())
			return url, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			return "", fmt.Errorf("PostgreSQL did not answer: %v: %s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keepOpen holds the pipes whose closing stops the test servers: they
// close when the test binary exits.
var keepOpen []io.WriteCloser

// postgresAdmin runs one statement on the server's postgres database.
func postgresAdmin(url, statement string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url+"postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, statement)
	return err
}

// FreePort is a loopback TCP port free at the moment of asking, for a test
// server to listen on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
