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
	// writeGate queues write transactions in the process (a one-slot
	// semaphore, so that a caller can stop waiting when its context ends).
	// SQLite takes one writer at a time anyway; without this, concurrent
	// BEGIN IMMEDIATEs meet SQLITE_BUSY and the busy handler sleeps in
	// steps of up to 100 ms, which bench/enroll showed as idle CPU and a
	// 190 ms p99.
	writeGate chan struct{}
	cache     *configCache
	login     *loginCache
	group     *group
	// commits counts committed write transactions, for tests that check
	// that writes share them.
	commits atomic.Int64
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
	cache := newConfigCache()
	login := newLoginCache(db, commits, cache)
	if err := login.start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	login.warmInBackground()
	d := &DB{queries: queries{q: db, cache: cache, login: login}, db: db, cache: cache, login: login, writeGate: make(chan struct{}, 1)}
	d.group = newGroup(d)
	return d, nil
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

// InTx runs fn in one IMMEDIATE transaction. Waiting for the write lock,
// in the process or from another one, ends with ctx (an error wrapping
// store.ErrBusy).
func (d *DB) InTx(ctx context.Context, fn func(store.Queries) error) error {
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer d.endWrite()
	state := &txState{}
	if err := fn(queries{q: tx, cache: d.cache, tx: state}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return d.commit(tx, state)
}

// beginWrite takes the process's write gate and begins an IMMEDIATE
// transaction; endWrite gives the gate back.
func (d *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	select {
	case d.writeGate <- struct{}{}:
	default:
		var bound <-chan time.Time
		if wait, ok := store.LockWait(ctx); ok {
			t := time.NewTimer(wait)
			defer t.Stop()
			bound = t.C
		}
		select {
		case d.writeGate <- struct{}{}:
		case <-bound:
			return nil, fmt.Errorf("sqlite: wait for the write lock: %w", store.ErrBusy)
		case <-ctx.Done():
			return nil, fmt.Errorf("sqlite: wait for the write lock: %w (%w)", store.ErrBusy, ctx.Err())
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		<-d.writeGate
		return nil, wrap("begin", err)
	}
	return tx, nil
}

func (d *DB) endWrite() { <-d.writeGate }

// commit commits tx, forgetting the cached configuration when fn wrote it.
func (d *DB) commit(tx *sql.Tx, state *txState) error {
	err := tx.Commit()
	if state.wroteConfig {
		d.cache.reset()
	}
	if err != nil {
		return wrap("commit", err)
	}
	d.commits.Add(1)
	return nil
}

// WarmLoginCache returns once the login cache holds every user (up to its
// limit of 100,000), as it does in the background after start and after a
// bulk change: a caller that has just written many users (bench/duo's
// fixture) serves from a full cache at once.
func (d *DB) WarmLoginCache(ctx context.Context) error {
	if err := d.login.sync(ctx); err != nil {
		return err
	}
	select {
	case <-d.login.warmInBackground():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriteTransactions is how many write transactions (InTx and shared
// InGroupTx ones) this DB has committed.
func (d *DB) WriteTransactions() int64 { return d.commits.Load() }

// Ping tells whether the database answers a query and accepts a write (a
// write that is rolled back), for /readyz.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	return d.checkWrite(ctx)
}

// Close stops the group committer and closes the database.
func (d *DB) Close() error {
	d.group.stop()
	d.login.stop()
	return d.db.Close()
}

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
	login *loginCache // nil inside a transaction, which must see its own writes
	tx    *txState    // nil outside a transaction
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
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return fmt.Errorf("sqlite: %s: %w (%w)", op, store.ErrBusy, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: %s: %w (%w)", op, store.ErrBusy, err)
	}
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
