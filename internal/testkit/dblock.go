package testkit

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver, for the SQLite lock

	"enrollportal/internal/store/postgres"
)

// LockWritesFromOutside holds the write lock of p's database from another
// connection, as another process would, until unlock (or the end of the
// test): on SQLite an EXCLUSIVE transaction, on PostgreSQL the advisory
// lock every write takes first (a lone statement too, see
// internal/store/postgres). Reads go on.
func LockWritesFromOutside(t testing.TB, p *Portal) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	var release func() error
	if p.Settings.IsPostgres() {
		conn, err := pgx.Connect(ctx, p.Settings.DB)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(postgres.WriteLockID)); err != nil {
			t.Fatal(err)
		}
		release = func() error { return conn.Close(ctx) } // ending the session releases the lock
	} else {
		db, err := sql.Open("sqlite3", "file:"+p.Settings.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		release = func() error {
			_, err := conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			db.Close()
			return err
		}
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			if err := release(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(unlock)
	return unlock
}
