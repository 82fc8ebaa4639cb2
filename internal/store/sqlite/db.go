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
	"sync"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"enrollportal/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeoutMS is how long a statement waits for a lock another
// connection holds, in milliseconds.
const busyTimeoutMS = "10000"

// DB is the SQLite implementation of store.Store.
type DB struct {
	queries
	db *sql.DB
	// writeMu queues write transactions in the process. SQLite takes one
	// writer at a time anyway; without this, concurrent BEGIN IMMEDIATEs
	// meet SQLITE_BUSY and the busy handler sleeps in steps of up to
	// 100 ms, which bench/enroll showed as idle CPU and a 190 ms p99.
	writeMu sync.Mutex
	cache   *configCache
}

var _ store.Store = (*DB)(nil)

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
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
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
	cache := newConfigCache()
	return &DB{queries: queries{q: db, cache: cache}, db: db, cache: cache}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, dir)
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

// InTx runs fn in one IMMEDIATE transaction.
func (d *DB) InTx(ctx context.Context, fn func(store.Queries) error) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	state := &txState{}
	if err := fn(queries{q: tx, cache: d.cache, tx: state}); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	if state.wroteConfig {
		d.cache.reset()
	}
	if err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Ping tells whether the database answers a query and accepts a write (a
// write that is rolled back), for /readyz.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	return d.checkWrite(ctx)
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// SQL gives tools (benchmark loaders) the underlying handle.
func (d *DB) SQL() *sql.DB { return d.db }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Queries on a querier.
type queries struct {
	q     querier
	cache *configCache
	tx    *txState // nil outside a transaction
}

// wrap turns driver errors into the store's sentinel errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrConflict)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

type rowsScanner interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}
