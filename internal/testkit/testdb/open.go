package testdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"enrollportal/internal/store/postgres"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/store/sqlstore"
)

// OnPostgres tells whether the tests run on PostgreSQL
// (PORTAL_TEST_DB=postgres) rather than on SQLite.
func OnPostgres() bool { return os.Getenv("PORTAL_TEST_DB") == "postgres" }

// New returns where a new database of the backend under test is: a
// PostgreSQL URL (migrated, dropped when the test ends), or a SQLite file
// path in a temporary directory of the test (created at its first open).
func New(t testing.TB) string {
	t.Helper()
	if OnPostgres() {
		return StartPostgresMigrated(t)
	}
	return filepath.Join(t.TempDir(), "portal.db")
}

// Open opens the store on db (a path or URL from New), migrated, and
// closes it when the test ends; opening the same db again plays a restart
// or a second process.
func Open(t testing.TB, db string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	var s *sqlstore.DB
	var err error
	if postgres.IsURL(db) {
		s, err = postgres.Open(ctx, db)
	} else {
		s, err = sqlite.Open(ctx, db)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenNew opens the store on a new, empty database (Open(t, New(t))).
func OpenNew(t testing.TB) *sqlstore.DB {
	t.Helper()
	return Open(t, New(t))
}
