package testkit

import (
	"testing"

	"enrollportal/internal/testkit/testdb"
)

// StartPostgres returns the URL of a new, empty database on the test
// binary's throwaway PostgreSQL server (see testdb.StartPostgres).
func StartPostgres(t testing.TB) string {
	t.Helper()
	return testdb.StartPostgres(t)
}
