package enrollbench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/app"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/store"
)

const (
	totalUsers = 100_000
	// linkUsers get a pending enrollment link, as after a bulk enrollment;
	// their landing pages are what the landing figure measures.
	linkUsers = 5_000
	// verifyUsers walk the journey up to the code step before the
	// measurement, each in their own browser session.
	verifyUsers = 3_000
	// firstVerifyUser keeps the verification users apart from the link users.
	firstVerifyUser = 50_000
)

var benchAdmin = audit.Who{Type: "admin", Name: "bench@example.org", IP: "127.0.0.1"}

// fixture is a portal on a database of totalUsers users, served on a real
// loopback port, and a bare Gin handler on the same database.
type fixture struct {
	app         *app.App
	portalURL   string
	bareURL     string
	links       []string // tokens of pending enrollment links (landing)
	verifyLinks []string // tokens of the verification users' links
}

func username(i int) string { return fmt.Sprintf("user%06d", i) }

func newFixture(b *testing.B) *fixture {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	// localhost, as people run it: WebAuthn needs a domain for its rp id.
	base := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	// The settings the binary runs with: info logs (one line a request),
	// written where a real server's stdout would go.
	s := config.Settings{
		DB: filepath.Join(dir, "portal.db"), BaseURL: base, Addr: ln.Addr().String(),
		SecretKeyFile: filepath.Join(dir, "secret.key"), LogLevel: "info", OrgName: "Example Org",
	}
	a, err := app.Open(ctx, s, app.Options{LogOut: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	f := &fixture{app: a, portalURL: base}

	t0 := time.Now()
	if err := loadUsers(ctx, a.Store.SQL(), totalUsers, a.Clock.Now()); err != nil {
		b.Fatal(err)
	}
	tUsers := time.Since(t0)
	t0 = time.Now()
	err = a.Store.InTx(ctx, func(q store.Queries) error {
		issue := func(i int) (string, error) {
			u, err := q.UserByUsername(ctx, username(i))
			if err != nil {
				return "", err
			}
			l, err := a.Enroll.IssueLinkTx(ctx, q, u, 0, benchAdmin)
			return l.Token, err
		}
		for i := range linkUsers {
			tok, err := issue(i)
			if err != nil {
				return err
			}
			f.links = append(f.links, tok)
		}
		for i := range verifyUsers {
			tok, err := issue(firstVerifyUser + i)
			if err != nil {
				return err
			}
			f.verifyLinks = append(f.verifyLinks, tok)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d users in %s, %d enrollment links in %s",
		totalUsers, tUsers.Round(time.Millisecond), linkUsers+verifyUsers, time.Since(t0).Round(time.Millisecond))
	// The bulk load left thousands of pages in the write-ahead log; a
	// portal that has been running for a while has checkpointed them, so
	// the measurement starts from a checkpointed database.
	if _, err := a.Store.SQL().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	// Such a portal's login cache holds every user too, as it does shortly
	// after start (bench/duo's figures are of the same state); the users
	// were written behind the portal's back, so it is filled here.
	if err := a.Store.WarmLoginCache(ctx); err != nil {
		b.Fatal(err)
	}

	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	f.portalURL = serve(b, ln, h)
	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f.bareURL = serve(b, bare, bareHandler(a.Store.SQL()))
	return f
}

func serve(b *testing.B, ln net.Listener, h http.Handler) string {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	// The clients dial 127.0.0.1 directly, sparing a resolver lookup.
	return "http://" + ln.Addr().String()
}

// bareHandler is the yardstick: Gin with no middleware, one indexed read.
func bareHandler(db *sql.DB) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/bare/:username", func(c *gin.Context) {
		var id int64
		var name, email string
		err := db.QueryRowContext(c.Request.Context(),
			`SELECT id, username, email FROM users WHERE username = ?`, c.Param("username")).Scan(&id, &name, &email)
		if err != nil {
			c.String(http.StatusNotFound, "no such user")
			return
		}
		c.String(http.StatusOK, "%d %s %s", id, name, email)
	})
	return r
}

// loadUsers inserts n users in one transaction with multi-row inserts.
func loadUsers(ctx context.Context, db *sql.DB, n int, now time.Time) error {
	const perStmt = 500 // 8 parameters each: well under SQLite's variable limit
	if n%perStmt != 0 {
		return fmt.Errorf("load %d users: not a multiple of %d", n, perStmt)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	row := "(?, ?, ?, ?, ?, ?, 'active', ?, ?)"
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO users
		(user_key, username, realname, firstname, lastname, email, status, created_at, updated_at) VALUES `+
		strings.TrimSuffix(strings.Repeat(row+", ", perStmt), ", "))
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, 0, perStmt*8)
	for start := 0; start < n; start += perStmt {
		args = args[:0]
		for i := start; i < start+perStmt; i++ {
			first, last := fmt.Sprintf("First%d", i), fmt.Sprintf("Last%d", i)
			args = append(args, fmt.Sprintf("DUBENCH%013d", i), username(i), first+" "+last, first, last,
				username(i)+"@example.org", now.Unix(), now.Unix())
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert users from %d: %w", start, err)
		}
	}
	return tx.Commit()
}
