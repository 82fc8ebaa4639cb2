package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrTargetNotEmpty means `portal db copy` found rows in the target
// database: it copies into a new database only, so that nothing there is
// mixed with or overwritten by the copy.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// TableCount is how many rows of one table a copy wrote.
type TableCount struct {
	Table string
	Rows  int64
}

// notCopied are the tables whose rows the target's own triggers write as
// the others are copied: login_changes, the change log that tells running
// portals which cached login inputs to drop. The source's log means
// nothing to portals that start on the copy with empty caches, and copying
// it would collide with the rows the triggers wrote.
var notCopied = map[string]bool{"login_changes": true}

// seededPolicyKey is the global policy the first migration inserts into
// every new database; a target holding only it is empty.
const seededPolicyKey = "DOGLOBAL000000000000"

// CopyInto copies every table of src (a store database at the same schema
// version: open it with its backend first, which migrates it) into the
// PostgreSQL database at url, which Open has migrated and which must hold
// no data. It runs in one transaction on the target: one COPY per table
// (pgx CopyFrom), the source rows streamed as they are read, in an order
// where every row's foreign keys exist already; then it moves each
// identity sequence past the largest id copied. A failure leaves the
// target as it was.
func CopyInto(ctx context.Context, src *sql.DB, url string) ([]TableCount, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer tx.Rollback(ctx)
	tables, err := copyOrder(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := checkEmpty(ctx, tx, tables); err != nil {
		return nil, err
	}
	// The target's own global policy makes way for the source's.
	if _, err := tx.Exec(ctx, `DELETE FROM policies`); err != nil {
		return nil, fmt.Errorf("postgres: clear the seeded policy: %w", err)
	}
	// The source is read in one transaction, so that the copy is one
	// moment of it even if something writes meanwhile.
	srcTx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("db copy: read the source: %w", err)
	}
	defer srcTx.Rollback()
	var counts []TableCount
	for _, t := range tables {
		if notCopied[t.name] {
			continue
		}
		n, err := copyTable(ctx, tx, srcTx, t)
		if err != nil {
			return nil, err
		}
		counts = append(counts, TableCount{Table: t.name, Rows: n})
	}
	for _, t := range tables {
		if t.identity == "" {
			continue
		}
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE(MAX(%s), 0) + 1, false) FROM %s`,
			t.name, t.identity, pgx.Identifier{t.identity}.Sanitize(), pgx.Identifier{t.name}.Sanitize())
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("postgres: reset the ids of %s: %w", t.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: commit the copy: %w", err)
	}
	return counts, nil
}

type tableInfo struct {
	name     string
	columns  []string
	bytea    []bool // per column: the target holds bytes
	integer  []bool // per column: the target holds an integer
	identity string // the identity column, "" for none
}

// copyOrder lists the target's tables (all but goose's) with their columns,
// parents before the tables whose foreign keys point at them.
func copyOrder(ctx context.Context, tx pgx.Tx) ([]tableInfo, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.table_name, c.column_name, c.data_type, c.is_identity
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> 'goose_db_version'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tables: %w", err)
	}
	byName := map[string]*tableInfo{}
	var names []string
	for rows.Next() {
		var table, column, typ, identity string
		if err := rows.Scan(&table, &column, &typ, &identity); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: list tables: %w", err)
		}
		t := byName[table]
		if t == nil {
			t = &tableInfo{name: table}
			byName[table] = t
			names = append(names, table)
		}
		t.columns = append(t.columns, column)
		t.bytea = append(t.bytea, typ == "bytea")
		t.integer = append(t.integer, typ == "bigint" || typ == "integer" || typ == "smallint")
		if identity == "YES" {
			t.identity = column
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list tables: %w", err)
	}
	parents := map[string][]string{}
	frows, err := tx.Query(ctx, `
		SELECT DISTINCT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list foreign keys: %w", err)
	}
	for frows.Next() {
		var child, parent string
		if err := frows.Scan(&child, &parent); err != nil {
			frows.Close()
			return nil, fmt.Errorf("postgres: list foreign keys: %w", err)
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	frows.Close()
	if err := frows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list foreign keys: %w", err)
	}
	var out []tableInfo
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("postgres: the foreign keys of %s form a cycle", name)
		case 2:
			return nil
		}
		state[name] = 1
		for _, p := range parents[name] {
			if byName[p] != nil {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		out = append(out, *byName[name])
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkEmpty refuses a target with any row but the seeded global policy.
func checkEmpty(ctx context.Context, tx pgx.Tx, tables []tableInfo) error {
	var full []string
	for _, t := range tables {
		q := `SELECT EXISTS (SELECT 1 FROM ` + pgx.Identifier{t.name}.Sanitize() + `)`
		if notCopied[t.name] {
			continue
		}
		if t.name == "policies" {
			q = `SELECT EXISTS (SELECT 1 FROM policies WHERE policy_key <> '` + seededPolicyKey + `' OR updated_at <> 0)`
		}
		var any bool
		if err := tx.QueryRow(ctx, q).Scan(&any); err != nil {
			return fmt.Errorf("postgres: check that %s is empty: %w", t.name, err)
		}
		if any {
			full = append(full, t.name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: %s hold rows. Copy into a new, empty database (CREATE DATABASE), so that nothing in it is overwritten", ErrTargetNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyTable streams one table from the source into the target with COPY.
func copyTable(ctx context.Context, tx pgx.Tx, src *sql.Tx, t tableInfo) (int64, error) {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = `"` + c + `"`
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM "`+t.name+`"`)
	if err != nil {
		return 0, fmt.Errorf("db copy: read %s from the source: %w", t.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(t.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var convErr error
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if vals[i], convErr = convert(v, t.bytea[i], t.integer[i]); convErr != nil {
				return nil, fmt.Errorf("column %s: %w", t.columns[i], convErr)
			}
		}
		return vals, nil
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromFunc(next))
	if err != nil {
		return 0, fmt.Errorf("db copy: %s: %w", t.name, err)
	}
	return n, nil
}

// convert makes a source value fit the target column: SQLite keeps what it
// was given, so bytes may come as text and numbers as text.
func convert(v any, bytea, integer bool) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if bytea {
			return []byte(x), nil
		}
		if integer {
			return strconv.ParseInt(x, 10, 64)
		}
	case []byte:
		if integer {
			return strconv.ParseInt(string(x), 10, 64)
		}
		if !bytea {
			return string(x), nil
		}
		return append([]byte(nil), x...), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if integer {
			return int64(x), nil
		}
	}
	return v, nil
}
