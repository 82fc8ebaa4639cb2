package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/store/sqlite"
)

// TestCheckpointerCopiesCommitsIntoTheDatabaseFile: commits go to the WAL
// and no commit checkpoints it; the checkpointer copies them into the
// database file soon after, while the database stays open.
func TestCheckpointerCopiesCommitsIntoTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// About 2 MB, well under the 1,000 pages (4 MB) at which SQLite's
	// default would checkpoint in a commit.
	sq := db.SQL()
	if _, err := sq.ExecContext(ctx, `CREATE TABLE filler (b TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := sq.ExecContext(ctx, `INSERT INTO filler (b) VALUES (?)`, strings.Repeat("x", 100_000)); err != nil {
			t.Fatal(err)
		}
	}
	waitForFile(t, path, func(size int64) bool { return size >= 2_000_000 })
}

func waitForFile(t *testing.T, path string, done func(size int64) bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if done(fileSize(t, path)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes: the WAL was not checkpointed", fileSize(t, path))
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
