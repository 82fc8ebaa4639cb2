package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
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
type connector struct {
	dsn         string
	defaultBusy time.Duration
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	raw, err := (&sqlite3.SQLiteDriver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &conn{SQLiteConn: raw.(*sqlite3.SQLiteConn), busy: c.defaultBusy, defaultBusy: c.defaultBusy}, nil
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
	return c.SQLiteConn.ExecContext(ctx, query, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.fit(ctx); err != nil {
		return nil, err
	}
	return c.SQLiteConn.QueryContext(ctx, query, args)
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
	return c.SQLiteConn.BeginTx(ctx, opts)
}
