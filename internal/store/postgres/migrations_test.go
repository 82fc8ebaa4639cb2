package postgres

import (
	"os"
	"path/filepath"
	"testing"
)

// Every SQLite migration has its PostgreSQL twin of the same number and
// name, and none is PostgreSQL's alone: a schema change lands on both
// backends.
func TestPostgresMigrationsTwinSQLite(t *testing.T) {
	names := func(dir string) map[string]bool {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, e := range entries {
			if filepath.Ext(e.Name()) == ".sql" {
				out[e.Name()] = true
			}
		}
		return out
	}
	sqlite, pg := names("../sqlite/migrations"), names("migrations")
	if len(sqlite) == 0 {
		t.Fatal("no SQLite migrations found")
	}
	for n := range sqlite {
		if !pg[n] {
			t.Errorf("internal/store/sqlite/migrations/%s has no PostgreSQL twin in internal/store/postgres/migrations", n)
		}
	}
	for n := range pg {
		if !sqlite[n] {
			t.Errorf("internal/store/postgres/migrations/%s has no SQLite twin", n)
		}
	}
}
