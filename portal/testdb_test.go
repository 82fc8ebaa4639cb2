package main

import (
	"path/filepath"
	"testing"

	"enrollportal/internal/config"
	"enrollportal/internal/store/sqlstore"
	"enrollportal/internal/testkit/testdb"
)

// dbFiles is where a command under test keeps its data: a new database of
// the backend under test (a SQLite file, or a PostgreSQL database when
// PORTAL_TEST_DB=postgres, see testdb) and the key file for it. The key
// file is named on both backends, as PostgreSQL requires.
type dbFiles struct{ db, key string }

func newDBFiles(t *testing.T) dbFiles {
	t.Helper()
	return dbFiles{db: testdb.New(t), key: filepath.Join(t.TempDir(), "secret.key")}
}

// env is the commands' environment for the files, with the extra
// variables (name, value, name, value, ...).
func (f dbFiles) env(extra ...string) map[string]string {
	env := map[string]string{"PORTAL_DB": f.db, "PORTAL_SECRET_KEY_FILE": f.key}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// settings are a portal's settings on the files, at baseURL.
func (f dbFiles) settings(baseURL string) config.Settings {
	return config.Settings{DB: f.db, SecretKeyFile: f.key, BaseURL: baseURL, LogLevel: "error"}
}

// open opens the store on the database, as another process would, closed
// when the test ends.
func (f dbFiles) open(t *testing.T) *sqlstore.DB {
	t.Helper()
	return testdb.Open(t, f.db)
}
