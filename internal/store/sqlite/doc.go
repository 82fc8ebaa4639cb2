// Package sqlite opens the store on an embedded SQLite file through
// mattn/go-sqlite3: WAL journal, foreign keys on, a busy timeout, and write
// transactions that take the lock up front (BEGIN IMMEDIATE) so that two
// writers never deadlock upgrading a read lock. The schema comes from the
// numbered migrations in migrations/, applied at Open with goose. The
// queries themselves are internal/store/sqlstore's, shared with the
// PostgreSQL backend.
package sqlite
