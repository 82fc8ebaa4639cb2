package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// IsURL tells whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// migrationLockID is the advisory lock under which a starting portal
// migrates, so that several instances starting together migrate once: the
// others wait, then find nothing to do. Any constant works, as long as no
// other user of the database takes the same one.
const migrationLockID = 0x706f7274616c // "portal"

// WriteLockID is the advisory lock every write transaction takes first
// (see beginWrite); whoever holds it, in any session, holds the writes of
// every portal on the database.
const WriteLockID = 0x706f7274616c77 // "portalw"

func init() { sqlstore.RegisterErrors(classify) }

// classify tells PostgreSQL's lock waits and unique violations apart (see
// sqlstore.RegisterErrors).
func classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	switch pe.Code {
	case "23505": // unique_violation
		return store.ErrConflict
	case "55P03", "40001", "40P01", "57014": // lock_not_available, serialization, deadlock, canceled
		return store.ErrBusy
	}
	return nil
}

var dialect = &sqlstore.Dialect{Kind: sqlstore.Postgres, BeginWrite: beginWrite, CheckWrite: checkWrite}

// beginWrite takes the write lock of the database for the transaction: one
// write transaction at a time, in this process and every other portal on
// the database, as on SQLite. The store's transactions read, decide and
// write (attempt counters, one-time codes, TOTP steps); under this lock
// they stay as correct as they are on SQLite, without retry loops, while
// reads go on in parallel. lock_timeout bounds the wait like SQLite's busy
// timeout, shorter when the caller set store.LockWait.
func beginWrite(ctx context.Context, tx *sql.Tx) error {
	wait := defaultLockWait
	if w, ok := store.LockWait(ctx); ok {
		wait = w
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', ?, true)`, fmt.Sprintf("%dms", max(wait.Milliseconds(), 1))); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(WriteLockID)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', '0', true)`)
	return err
}

// checkWrite makes a write and rolls it back, for /readyz: a database that
// answers reads but refuses writes (a read-only standby, a full disk, the
// write lock held for long) is not ready.
func checkWrite(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: write check: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', ?, true)`, fmt.Sprintf("%dms", writeCheckWait.Milliseconds())); err != nil {
		return fmt.Errorf("postgres: write check: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(WriteLockID)); err != nil {
		return fmt.Errorf("postgres: the database takes no write lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO health (id) VALUES (1)`); err != nil {
		return fmt.Errorf("postgres: write check: %w", err)
	}
	return nil
}

// Open connects to the PostgreSQL database at url (postgres://...), brings
// its schema up to date under an advisory lock and returns the store on it.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	// goose's own queries pass booleans, so it migrates through a plain
	// handle on the same pool.
	plain := stdlib.OpenDBFromPool(pool)
	err = migrate(ctx, plain)
	plain.Close()
	if err != nil {
		pool.Close()
		return nil, err
	}
	// The connections count their commits, so that the login cache keeps
	// users in memory and sees this process's writes at once (see
	// sqlstore.NewCounted); other processes' writes it sees through the
	// login_changes log, as on SQLite.
	commits := &atomic.Uint64{}
	return sqlstore.NewCounted(sqlDBCounted(pool, commits), dialect, commits), nil
}

// OpenSQL connects to the database at url through a pgx pool and returns a
// database/sql handle whose statements take `?` placeholders, as the
// store's queries are written (see conn), without migrating.
func OpenSQL(ctx context.Context, url string) (*sql.DB, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	return sqlDB(pool), nil
}

// connect makes the pool and checks that the database answers.
func connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", redact(url), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", redact(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", redact(url), err)
	}
	return pool, nil
}

// sqlDB is the database/sql handle on pool with the store's connections;
// closing it closes the pool.
func sqlDB(pool *pgxpool.Pool) *sql.DB { return sqlDBCounted(pool, &atomic.Uint64{}) }

// sqlDBCounted is sqlDB whose connections add every commit to commits.
func sqlDBCounted(pool *pgxpool.Pool, commits *atomic.Uint64) *sql.DB {
	db := sql.OpenDB(connector{Connector: stdlib.GetPoolConnector(pool), pool: pool, commits: commits})
	// The pool bounds the connections (pool_max_conns in the URL, default
	// the larger of 4 and the CPU count); database/sql keeps as many.
	db.SetMaxOpenConns(int(pool.Config().MaxConns))
	db.SetMaxIdleConns(int(pool.Config().MaxConns))
	return db
}

// redact drops the password from a URL for messages.
func redact(url string) string {
	if cfg, err := pgconn.ParseConfig(url); err == nil {
		return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "the PostgreSQL URL"
}

func migrate(ctx context.Context, db *sql.DB) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	// Instances started together queue on the lock (checked every second
	// for up to 5 minutes); the first applies the migrations, the others
	// then find them applied.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	// Out of order, as on SQLite: features land in any order.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, dir,
		goose.WithAllowOutofOrder(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if err := checkSchemaVersion(ctx, db, provider); err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("postgres: apply migrations: %w", err)
	}
	return nil
}

// ErrNewerSchema means the database was written by a newer portal.
var ErrNewerSchema = errors.New("postgres: database schema is newer than this portal")

// checkSchemaVersion refuses a database that has applied a migration this
// binary does not have (sqlstore.SchemaVersionError).
func checkSchemaVersion(ctx context.Context, db *sql.DB, provider *goose.Provider) error {
	applied, err := sqlstore.AppliedSchemaVersions(ctx, db)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: a new database
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	var known []int64
	for _, s := range provider.ListSources() {
		known = append(known, s.Version)
	}
	return sqlstore.SchemaVersionError(ErrNewerSchema, applied, known)
}

// connector hands out connections that take the store's `?` queries.
type connector struct {
	driver.Connector
	pool    *pgxpool.Pool
	commits *atomic.Uint64
}

// Close closes the pool when database/sql closes the handle.
func (c connector) Close() error {
	c.pool.Close()
	return nil
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	raw, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: raw.(*stdlib.Conn), commits: c.commits}, nil
}

// conn is a pgx connection that rebinds `?` placeholders to PostgreSQL's
// $1, $2, ... and passes booleans as 0/1, so that the one copy of the
// store's SQL (written for both databases, with integer flags) runs here.
type conn struct {
	*stdlib.Conn
	// commits counts the commits of the store's connections, the
	// transactions' and the lone writes' (see Open).
	commits *atomic.Uint64
}

// BeginTx begins a transaction whose commit is counted.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countedTx{Tx: tx, commits: c.commits}, nil
}

// countedTx counts its commit, even one that reports an error: the
// server may have committed before the answer was lost, and a commit
// counted too many costs the login cache one read of the log, while one
// missed would let it answer from before the write.
type countedTx struct {
	driver.Tx
	commits *atomic.Uint64
}

func (t countedTx) Commit() error {
	err := t.Tx.Commit()
	t.commits.Add(1)
	return err
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

// A failed statement aborts a PostgreSQL transaction: every later one
// fails until the transaction ends. In SQLite only the statement fails,
// and the store's callers rely on it: a transaction that meets a unique
// violation (an import line whose username was taken meanwhile, an alias
// in use) looks at what is there and goes on. So inside a transaction,
// each write statement runs under a savepoint that a failure rolls back,
// leaving the transaction as it was before the statement, as SQLite does.
const statementSavepoint = "portal_statement"

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query = rebind(query)
	switch c.kindOf(query) {
	case writeInTx:
		if err := c.savepoint(ctx); err != nil {
			return nil, err
		}
		res, err := c.Conn.ExecContext(ctx, query, args)
		return res, c.endStatement(ctx, err)
	case writeAlone:
		if store.DeliveryRecord(ctx) {
			return c.execRecord(ctx, query, args)
		}
		if err := c.beginAlone(ctx); err != nil {
			return nil, err
		}
		res, err := c.Conn.ExecContext(ctx, query, args)
		return res, c.endLocked(ctx, err)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

// execRecord runs the write that records a delivery
// (store.WithDeliveryRecord) in one write to the server's socket: its
// transaction's BEGIN, the setting that lets its commit return before the
// flush to disk, the statement and the COMMIT go together, in one
// pipeline. The statement goes as an unnamed one with its parameters in
// text form, which the server types from their columns: pgx's cached
// statements would first ask the server to describe a statement new to the
// connection, a round trip before anything is written, and the time before
// that write is the time in which a crash sends the message twice (see
// notify's deliver). Once written, the server carries it out even if this
// process dies at once.
func (c *conn) execRecord(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	params := make([][]byte, len(args))
	for i, a := range args {
		p, err := textParam(a.Value)
		if err != nil {
			return nil, err
		}
		params[i] = p
	}
	b := &pgconn.Batch{}
	b.ExecParams("BEGIN", nil, nil, nil, nil)
	b.ExecParams("SET LOCAL synchronous_commit = off", nil, nil, nil, nil)
	b.ExecParams(query, params, nil, nil, nil)
	b.ExecParams("COMMIT", nil, nil, nil, nil)
	results, err := c.Conn.Conn().PgConn().ExecBatch(ctx, b).ReadAll()
	c.commits.Add(1) // counted as a transaction's (countedTx)
	for _, r := range results {
		if err == nil {
			err = r.Err
		}
	}
	if err == nil && len(results) != 4 {
		err = fmt.Errorf("recording a delivery: %d results, want 4", len(results))
	}
	if err != nil {
		return nil, c.rollback(ctx, err)
	}
	return driver.RowsAffected(results[2].CommandTag.RowsAffected()), nil
}

// textParam is a statement parameter in PostgreSQL's text form, for
// execRecord: the store's writes pass integers (Unix times, ids) and
// strings.
func textParam(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case string:
		return []byte(v), nil
	case bool:
		return []byte(strconv.FormatBool(v)), nil
	default:
		return nil, fmt.Errorf("recording a delivery: a parameter of type %T", v)
	}
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query = rebind(query)
	var end func(context.Context, error) error
	switch c.kindOf(query) {
	case writeInTx:
		if err := c.savepoint(ctx); err != nil {
			return nil, err
		}
		end = c.endStatement
	case writeAlone:
		if err := c.beginAlone(ctx); err != nil {
			return nil, err
		}
		end = c.endLocked
	default:
		return c.Conn.QueryContext(ctx, query, args)
	}
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, end(ctx, err)
	}
	// INSERT ... RETURNING reports its error while its rows are read: the
	// savepoint or the transaction ends when they are closed.
	return &guardedRows{Rows: rows, end: end, ctx: ctx}, nil
}

// statementKind tells how a statement runs (see kindOf).
type statementKind int

const (
	// read: as it is.
	read statementKind = iota
	// writeInTx: a write in a transaction, under a savepoint.
	writeInTx
	// writeAlone: a write outside any transaction, in a transaction of its
	// own that takes the write lock first.
	writeAlone
)

// kindOf tells whether query is a write, and whether a transaction is open.
func (c *conn) kindOf(query string) statementKind {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return read
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE":
	default:
		return read
	}
	if c.Conn.Conn().PgConn().TxStatus() == 'I' {
		return writeAlone
	}
	return writeInTx
}

// A write outside a transaction (a lease, an outbox claim, a prompt
// transaction's row) takes the write lock too, in a transaction of its
// own: on SQLite every write, alone or not, waits for the one write lock,
// and the store's read-decide-write transactions rely on no write landing
// between their read and their write. PostgreSQL would run a lone
// statement at once, beside a transaction holding the lock, and a
// database write-locked from outside would not bound it by the caller's
// lock wait (store.WithLockWait) as SQLite's busy timeout does. The BEGIN
// and the lock go in one round trip (the simple protocol runs the
// statements of one string in order, stopping at the first error). The one
// exception is the record of a delivery (store.WithDeliveryRecord).

// beginAlone begins the lone write's transaction and takes the write
// lock, waiting at most the caller's lock wait; the write that records a
// delivery (store.WithDeliveryRecord, should it ever return rows) takes no
// lock and commits without waiting for the flush to disk instead.
func (c *conn) beginAlone(ctx context.Context) error {
	begin := "BEGIN; SET LOCAL synchronous_commit = off"
	if !store.DeliveryRecord(ctx) {
		wait := defaultLockWait
		if w, ok := store.LockWait(ctx); ok {
			wait = w
		}
		begin = fmt.Sprintf("BEGIN; SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%d); SET LOCAL lock_timeout = 0",
			max(wait.Milliseconds(), 1), int64(WriteLockID))
	}
	pg := c.Conn.Conn().PgConn()
	if _, err := pg.Exec(ctx, begin).ReadAll(); err != nil {
		return c.rollback(ctx, err)
	}
	return nil
}

// endLocked commits the lone write's transaction, or rolls it back when
// the statement failed (and then returns the statement's error).
func (c *conn) endLocked(ctx context.Context, err error) error {
	if err != nil {
		return c.rollback(ctx, err)
	}
	_, err = c.Conn.Conn().PgConn().Exec(ctx, "COMMIT").ReadAll()
	c.commits.Add(1) // counted as a transaction's (countedTx)
	if err != nil {
		return c.rollback(ctx, err)
	}
	return nil
}

// rollback ends a lone write's transaction that failed, so that the
// connection goes back to database/sql outside any transaction.
func (c *conn) rollback(ctx context.Context, err error) error {
	pg := c.Conn.Conn().PgConn()
	if pg.IsClosed() || pg.TxStatus() == 'I' {
		return err
	}
	if _, rerr := pg.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

func (c *conn) savepoint(ctx context.Context) error {
	_, err := c.Conn.Conn().Exec(ctx, "SAVEPOINT "+statementSavepoint)
	return err
}

// endStatement releases the statement's savepoint, or rolls back to it
// when the statement failed (and then returns the statement's error).
func (c *conn) endStatement(ctx context.Context, err error) error {
	pg := c.Conn.Conn()
	if err != nil {
		if c.Conn.Conn().IsClosed() {
			return err
		}
		ctx := context.WithoutCancel(ctx)
		if _, rerr := pg.Exec(ctx, "ROLLBACK TO SAVEPOINT "+statementSavepoint); rerr != nil {
			return errors.Join(err, rerr)
		}
		if _, rerr := pg.Exec(ctx, "RELEASE SAVEPOINT "+statementSavepoint); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err = pg.Exec(ctx, "RELEASE SAVEPOINT "+statementSavepoint)
	return err
}

// guardedRows ends the savepoint (or the transaction) of a write that
// returns rows when they are closed, rolling back if reading them failed.
type guardedRows struct {
	driver.Rows
	end     func(context.Context, error) error
	ctx     context.Context
	failure error
	closed  bool
}

func (r *guardedRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && err != io.EOF {
		r.failure = err
	}
	return err
}

func (r *guardedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	if err == nil {
		err = r.failure
	}
	if end := r.end(r.ctx, err); end != nil && err == nil {
		return end
	}
	return err
}

// CheckNamedValue turns booleans (also inside sql.Null* values) into the
// integers the schema's flag columns hold.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := nv.Value.(driver.Valuer); ok {
		val, err := v.Value()
		if err != nil {
			return err
		}
		nv.Value = val
	}
	if b, ok := nv.Value.(bool); ok {
		if b {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
	}
	return nil
}

var rebound sync.Map // query text -> rebound text

// rebind turns the `?` placeholders of query into $1, $2, ..., leaving
// string literals, quoted identifiers and comments alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	if r, ok := rebound.Load(query); ok {
		return r.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(query[i+1:], ch)
			if j < 0 {
				b.WriteString(query[i:])
				i = len(query)
				continue
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(ch)
		}
	}
	out := b.String()
	// The store's query texts are a bounded set (chunked inserts vary by
	// their row count only); the bound keeps a query built with values in
	// its text, should one appear, from growing the cache without end.
	if reboundCount.Load() < maxRebound {
		reboundCount.Add(1)
		rebound.Store(query, out)
	}
	return out
}

// maxRebound bounds the rebound queries kept.
const maxRebound = 4096

var reboundCount atomic.Int64

// defaultLockWait is how long a write transaction waits for the write lock
// when its caller set no bound: SQLite's busy timeout.
const defaultLockWait = 10 * time.Second

// writeCheckWait bounds how long /readyz waits for the write lock.
const writeCheckWait = 1500 * time.Millisecond
