package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"enrollportal/internal/testkit"
)

// The commands run on PostgreSQL when PORTAL_DB (or the file PORTAL_DB_FILE
// names) is a postgres:// URL; the key file must then be named.
func TestPostgresURLRunsTheCommands(t *testing.T) {
	url := testkit.StartPostgres(t)
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "db-url")
	if err := os.WriteFile(urlFile, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noKey := map[string]string{"PORTAL_DB": url, "PORTAL_BASE_URL": "https://mfa.example.com"}
	if r := runCLI(t, noKey, "users", "add", "alice"); r.code == 0 || !strings.Contains(r.stderr, "PORTAL_SECRET_KEY_FILE") {
		t.Fatalf("without a key file: %+v", r)
	}
	env := map[string]string{"PORTAL_DB_FILE": urlFile, "PORTAL_BASE_URL": "https://mfa.example.com",
		"PORTAL_SECRET_KEY_FILE": filepath.Join(dir, "secret.key")}
	if r := runCLI(t, env, "users", "add", "Alice", "--email", "alice@example.com"); r.code != 0 || !strings.Contains(r.stdout, "created user alice") {
		t.Fatalf("users add: %+v", r)
	}
	if r := runCLI(t, env, "users", "add", "ALICE"); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate: %+v", r)
	}
	r := runCLI(t, env, "enroll-link", "alice")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "https://mfa.example.com/enroll/") {
		t.Fatalf("enroll-link: %+v", r)
	}
	// The data is in PostgreSQL, not in a SQLite file beside the key.
	if _, err := os.Stat(filepath.Join(dir, "portal.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite file appeared: %v", err)
	}
	// A schema version this portal does not have (another build migrated
	// the database) is refused before anything is done.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true)`); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, env, "users", "add", "bob"); r.code != 1 || !strings.Contains(r.stderr, "schema version 2, which this portal does not have") {
		t.Fatalf("users add on a database with an unknown schema version: %+v", r)
	}
}
