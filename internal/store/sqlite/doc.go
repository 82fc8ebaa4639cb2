// Package sqlite implements store.Store on an embedded SQLite file through
// mattn/go-sqlite3: WAL journal, foreign keys on, a busy timeout, and write
// transactions that take the lock up front (BEGIN IMMEDIATE) so that two
// writers never deadlock upgrading a read lock. The schema comes from the
// numbered migrations in migrations/, applied at Open with goose.
//
// It imports only the store package of the project.
package sqlite
