package sqlstore

import (
	"context"
	"database/sql"
)

// Kind names a database the store runs on.
type Kind int

// The databases the store runs on.
const (
	SQLite Kind = iota
	Postgres
)

// Dialect is what the store does differently on one database: the few SQL
// constructs that SQLite and PostgreSQL spell differently (the methods
// below, used where a query cannot be written in SQL both accept), how a
// write transaction takes the write lock, and the write check of /readyz.
// Everything else is one query text for both: `?` placeholders (the
// PostgreSQL backend's connections rebind them to $n), times as Unix
// seconds, ids as integers, INSERT ... ON CONFLICT and RETURNING id.
// The backends (internal/store/sqlite, internal/store/postgres) fill it in.
type Dialect struct {
	Kind Kind
	// BeginWrite runs first in every write transaction (nil: nothing to
	// do). On PostgreSQL it takes the lock that lets one write transaction
	// run at a time across every portal process, which is what SQLite's
	// BEGIN IMMEDIATE gives and what the store's read-then-write
	// transactions were written against.
	BeginWrite func(ctx context.Context, tx *sql.Tx) error
	// CheckWrite tells whether the database accepts a write, for /readyz.
	CheckWrite func(ctx context.Context, db *sql.DB) error
}

func (d *Dialect) postgres() bool { return d != nil && d.Kind == Postgres }

// inTexts is `IN (...)` over the strings of one bound JSON array
// (stringsJSON): one parameter whatever the list's length.
func (d *Dialect) inTexts() string {
	if d.postgres() {
		return "IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))"
	}
	return "IN (SELECT value FROM json_each(?))"
}

// inInts is inTexts for a JSON array of integers (idsJSON).
func (d *Dialect) inInts() string {
	if d.postgres() {
		return "IN (SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS BIGINT))"
	}
	return "IN (SELECT value FROM json_each(?))"
}

// idValues is a table (id, value) of the integer members of one bound JSON
// object whose keys are ids: {"12": 1700000000}.
func (d *Dialect) idValues() string {
	if d.postgres() {
		return "(SELECT CAST(key AS BIGINT) AS id, CAST(value AS BIGINT) AS value FROM jsonb_each_text(CAST(? AS jsonb)))"
	}
	return "(SELECT CAST(key AS INTEGER) AS id, value FROM json_each(?))"
}

// jsonArray is a scalar subquery: the JSON array (as text, "[]" when
// empty) of expr over the rows of the ordered subquery sub, kept in its
// order.
func (d *Dialect) jsonArray(expr, sub string) string {
	if d.postgres() {
		return "(SELECT COALESCE(CAST(json_agg(" + expr + ") AS TEXT), '[]') FROM (" + sub + ") AS j)"
	}
	return "(SELECT json_group_array(" + expr + ") FROM (" + sub + ") AS j)"
}

// jsonPair is a two-element JSON array of a and b, for jsonArray.
func (d *Dialect) jsonPair(a, b string) string {
	if d.postgres() {
		return "json_build_array(" + a + ", " + b + ")"
	}
	return "json_array(" + a + ", " + b + ")"
}

// intList is the comma-separated integers of expr over a group (parseIDList
// reads it); NULL for none.
func (d *Dialect) intList(expr string) string {
	if d.postgres() {
		return "string_agg(CAST(" + expr + " AS TEXT), ',')"
	}
	return "group_concat(" + expr + ")"
}

// greatest is the larger of two values (SQLite's two-argument max).
func (d *Dialect) greatest(a, b string) string {
	if d.postgres() {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "MAX(" + a + ", " + b + ")"
}

// nocaseRange is `col >= ? AND col < ?` compared without case, on the
// column's case-free index (lower-case bounds).
func (d *Dialect) nocaseRange(col string) string {
	if d.postgres() {
		return `lower(` + col + `) >= ? AND lower(` + col + `) < ?`
	}
	return col + " >= ? COLLATE NOCASE AND " + col + " < ? COLLATE NOCASE"
}

// indexedBy is SQLite's index hint (INDEXED BY index) after a table in
// FROM; PostgreSQL has no hints and picks the index itself.
func (d *Dialect) indexedBy(index string) string {
	if d.postgres() {
		return ""
	}
	return "INDEXED BY " + index
}

// skipLocked ends the SELECT that picks the rows a claim (outbox messages,
// a job) is about to take. On PostgreSQL two processes run such a claim at
// once, outside any write transaction: without it both would pick the
// same rows, and the second UPDATE, waiting on the first's row locks,
// would then take them again. FOR UPDATE locks the picked rows and
// re-reads a row changed meanwhile against the WHERE clause; SKIP LOCKED
// passes over rows another claim holds, so the claims share the rows
// instead of queueing. In SQLite one statement runs at a time anyway.
func (d *Dialect) skipLocked() string {
	if d.postgres() {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
