// Package postgres opens the store on a PostgreSQL 15+ database through
// pgx's pool (github.com/jackc/pgx/v5): the queries are
// internal/store/sqlstore's, shared with SQLite, on connections that rebind
// their `?` placeholders; the schema comes from the numbered migrations in
// migrations/ (the same numbers as SQLite's, in PostgreSQL's DDL), applied
// at Open with goose under an advisory lock, so that several portals
// starting together migrate once.
package postgres
