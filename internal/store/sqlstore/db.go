package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"enrollportal/internal/store"
)

// DB implements store.Store on a database/sql handle, SQLite's or
// PostgreSQL's: one copy of the queries, with what differs kept in Dialect.
type DB struct {
	queries
	db      *sql.DB
	dialect *Dialect
	// writeGate queues write transactions in the process (a one-slot
	// semaphore, so that a caller can stop waiting when its context ends).
	// SQLite takes one writer at a time anyway; without this, concurrent
	// BEGIN IMMEDIATEs meet SQLITE_BUSY and the busy handler sleeps in
	// steps of up to 100 ms, which bench/enroll showed as idle CPU and a
	// 190 ms p99. On PostgreSQL the write transactions of several
	// processes also take one lock (see Dialect.BeginWrite), so the gate
	// keeps a process's writers from holding a connection each while they
	// wait for it.
	writeGate chan struct{}
	cache     *configCache
	login     *loginCache
	group     *group
	atClose   []func() // see AtClose
	// commits counts committed write transactions, for tests that check
	// that writes share them.
	commits atomic.Int64
}

var _ store.Store = (*DB)(nil)

// New returns the store on db, whose schema is up to date. The DB owns db
// from then on: Close closes it.
func New(db *sql.DB, d *Dialect) *DB { return NewCounted(db, d, nil) }

// NewCounted is New for a backend whose connections count, in commits,
// every commit that wrote, once it is done (see the sqlite connector): the
// login cache then keeps users in memory (logincache.go). With commits nil
// it keeps none.
func NewCounted(db *sql.DB, d *Dialect, commits *atomic.Uint64) *DB {
	cache := newConfigCache()
	login := newLoginCache(db, d, commits, cache)
	out := &DB{queries: queries{q: db, cache: cache, d: d, login: login}, db: db, dialect: d, cache: cache, login: login,
		writeGate: make(chan struct{}, 1)}
	out.group = newGroup(out)
	login.warmInBackground()
	return out
}

// Dialect returns what this store does differently on its database.
func (d *DB) Dialect() *Dialect { return d.dialect }

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
	if err := fn(queries{q: tx, cache: d.cache, tx: state, d: d.dialect}); err != nil {
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
			return nil, fmt.Errorf("store: wait for the write lock: %w", store.ErrBusy)
		case <-ctx.Done():
			return nil, fmt.Errorf("store: wait for the write lock: %w (%w)", store.ErrBusy, ctx.Err())
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		<-d.writeGate
		return nil, wrap("begin", err)
	}
	if d.dialect.BeginWrite != nil {
		if err := d.dialect.BeginWrite(ctx, tx); err != nil {
			_ = tx.Rollback()
			<-d.writeGate
			return nil, wrap("take the write lock", err)
		}
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
	return d.dialect.CheckWrite(ctx, d.db)
}

// Close stops the group committer and closes the database.
func (d *DB) Close() error {
	d.group.stop()
	d.login.stop()
	for _, f := range d.atClose {
		f()
	}
	return d.db.Close()
}

// AtClose has Close call f before it closes the database handle: a
// backend stops its own background work there (sqlite's checkpointer).
// It is for Open, before the DB is shared.
func (d *DB) AtClose(f func()) { d.atClose = append(d.atClose, f) }

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
	d     *Dialect
}

// classifiers are the backends' ways of telling a lock wait that ended or
// a refused duplicate in their drivers' errors (see RegisterErrors).
var (
	classifiersMu sync.RWMutex
	classifiers   []func(error) error
)

// RegisterErrors adds a backend's classifier: it returns store.ErrBusy
// when err means a wait for a lock ended, store.ErrConflict when a unique
// constraint refused a row, and nil for anything else (including errors of
// other drivers, so that both backends' classifiers can live in one
// process, as in `portal db copy`).
func RegisterErrors(classify func(error) error) {
	classifiersMu.Lock()
	defer classifiersMu.Unlock()
	classifiers = append(classifiers, classify)
}

// wrap turns driver errors into the store's sentinel errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("store: %s: %w (%w)", op, store.ErrBusy, err)
	}
	classifiersMu.RLock()
	defer classifiersMu.RUnlock()
	for _, classify := range classifiers {
		if sentinel := classify(err); sentinel != nil {
			return fmt.Errorf("store: %s: %w (%w)", op, sentinel, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

type rowsScanner interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}
