package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"enrollportal/internal/store"
)

// connector opens mattn/go-sqlite3 connections whose wait for a lock ends
// with the statement's context. SQLite waits for another process's write
// lock in its busy handler, which neither a context nor
// sqlite3_interrupt can cut short: a login under a database write-locked
// from outside waited the whole busy timeout. So before a statement whose
// context has a deadline, the connection's busy timeout is set to the time
// left (in steps, so that a run of statements sets it once).
//
// Each connection also counts the commits that wrote (commits), so that the
// login cache reads the change log after this process's own writes before
// it answers again (see logincache.go). SQLite's commit hook runs before the
// commit is done, so the count is taken after the call that committed
// returns: an autocommit Exec, the Close of an autocommit query's rows (a
// RETURNING statement commits when it is reset), a transaction's Commit.
type connector struct {
	dsn         string
	defaultBusy time.Duration
	commits     *atomic.Uint64
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	raw, err := (&sqlite3.SQLiteDriver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	cn := &conn{SQLiteConn: raw.(*sqlite3.SQLiteConn), busy: c.defaultBusy, defaultBusy: c.defaultBusy, commits: c.commits}
	// No commit checkpoints the WAL: the checkpointer does, beside the
	// writers (checkpoint.go).
	if _, err := cn.SQLiteConn.Exec("PRAGMA wal_autocheckpoint = 0", nil); err != nil {
		raw.Close()
		return nil, err
	}
	cn.RegisterCommitHook(func() int {
		cn.wrote = true
		return 0
	})
	return cn, nil
}

func (c *connector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// busyStep is the granularity of deadline-derived busy timeouts.
const busyStep = 100 * time.Millisecond

// conn is a connection that fits its busy timeout to each statement's
// deadline. database/sql uses a connection from one goroutine at a time.
type conn struct {
	*sqlite3.SQLiteConn
	busy        time.Duration // the busy timeout now set
	defaultBusy time.Duration
	commits     *atomic.Uint64
	// wrote is set by the commit hook, during the call that commits.
	wrote bool
}

// counted adds a commit made during the call that just returned.
func (c *conn) counted() {
	if c.wrote {
		c.wrote = false
		c.commits.Add(1)
	}
}

// fit sets the busy timeout for a statement run under ctx: the default, or
// less: the lock wait bound of ctx (store.WithLockWait), the time left
// before its deadline rounded down to busyStep.
func (c *conn) fit(ctx context.Context) error {
	want := c.defaultBusy
	if d, ok := store.LockWait(ctx); ok {
		want = min(d, want)
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl).Truncate(busyStep)
		want = max(min(left, want), 0)
	}
	if want == c.busy {
		return nil
	}
	if _, err := c.SQLiteConn.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", want.Milliseconds()), nil); err != nil {
		return err
	}
	c.busy = want
	return nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.fit(ctx); err != nil {
		return nil, err
	}
	res, err := c.SQLiteConn.ExecContext(ctx, query, args)
	c.counted()
	return res, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.fit(ctx); err != nil {
		return nil, err
	}
	rows, err := c.SQLiteConn.QueryContext(ctx, query, args)
	if err != nil {
		c.counted()
		return nil, err
	}
	return &connRows{SQLiteRows: rows.(*sqlite3.SQLiteRows), c: c}, nil
}

// connRows counts the commit of an autocommit statement that returns rows.
type connRows struct {
	*sqlite3.SQLiteRows
	c *conn
}

func (r *connRows) Close() error {
	err := r.SQLiteRows.Close()
	r.c.counted()
	return err
}

// connTx counts its commit once it is done.
type connTx struct {
	driver.Tx
	c *conn
}

func (t connTx) Commit() error {
	err := t.Tx.Commit()
	t.c.counted()
	return err
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.fit(ctx); err != nil {
		return nil, err
	}
	return c.SQLiteConn.PrepareContext(ctx, query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.fit(ctx); err != nil {
		return nil, err
	}
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return connTx{Tx: tx, c: c}, nil
}
