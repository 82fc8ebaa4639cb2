package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeoutMS is how long a statement waits for a lock another
// connection holds, in milliseconds.
const busyTimeoutMS = "10000"

// DB is the store on SQLite: the shared SQL store (internal/store/sqlstore)
// with SQLite's dialect.
type DB = sqlstore.DB

func init() { sqlstore.RegisterErrors(classify) }

// classify tells SQLite's lock waits and unique constraints apart (see
// sqlstore.RegisterErrors).
func classify(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return nil
	}
	if se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked {
		return store.ErrBusy
	}
	if se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return store.ErrConflict
	}
	return nil
}

// dialect is SQLite's: the write lock comes with BEGIN IMMEDIATE (the
// _txlock of the DSN), so a write transaction needs nothing more.
var dialect = &sqlstore.Dialect{Kind: sqlstore.SQLite, CheckWrite: checkWrite}

// Open opens (creating when absent) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create database directory: %w", err)
		}
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", busyTimeoutMS)
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	// A page cache of 16,000 KiB (about 16 MB) per connection, instead of
	// SQLite's 2 MB: the hot indexes of a large user table stay in memory
	// (bench/duo: 100,000 users), and the random unique indexes of large bulk
	// writes (imports, bulk enrollment) are not spilled to the WAL and read
	// back. A negative value counts KiB, a positive one pages.
	q.Set("_cache_size", "-16000")
	// Reuse prepared statements per connection: preparing costs as much as
	// running the small indexed queries the portal makes (see bench/enroll
	// and bench/duo).
	q.Set("_stmt_cache_size", "64")
	commits := &atomic.Uint64{}
	db := sql.OpenDB(&connector{dsn: "file:" + path + "?" + q.Encode(), defaultBusy: defaultBusyTimeout, commits: commits})
	// WAL lets readers run beside the one writer; more connections than
	// that only queue on the write lock.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	out := sqlstore.NewCounted(db, dialect, commits)
	out.AtClose(startCheckpointer(db, commits))
	return out, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// Features are built side by side and land in any order, so a database
	// may already hold a higher-numbered migration than one a later binary
	// brings; each migration touches its own tables, so applying the lower
	// one afterwards is safe.
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, dir, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if err := checkSchemaVersion(ctx, db, provider); err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: apply migrations: %w", err)
	}
	return nil
}

// defaultBusyTimeout is busyTimeoutMS: how long a statement without a
// deadline waits for another process's write lock (a `portal` subcommand
// run beside the server). A statement whose context has a deadline waits
// until then at most (see connector).
const defaultBusyTimeout = 10 * time.Second
