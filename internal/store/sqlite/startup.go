package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"

	"enrollportal/internal/store/sqlstore"
)

// ErrNewerSchema means the database was written by a newer portal: its
// schema has migrations this binary does not know, and running on it would
// fail later with missing columns or break the newer version's data.
var ErrNewerSchema = errors.New("sqlite: database schema is newer than this portal")

// checkWritable tells, before SQLite opens the file, whether the database
// and its directory can be written, and says why not in words a person can
// act on. SQLite itself opens an unwritable file read-only without a word
// (every later write fails), and on a read-only file system reports "no
// such file or directory" for a file that exists, because it cannot create
// the -wal and -shm files beside it.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if info, err := os.Stat(path); err == nil {
		if info.IsDir() {
			return fmt.Errorf("sqlite: database %s is a directory, not a file", path)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("sqlite: database %s cannot be written: %s", path, writeProblem(err))
		}
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: database %s: %w", path, err)
	}
	// SQLite creates the -wal and -shm files (and a new database) in the
	// directory: it must take a new file.
	probe, err := os.CreateTemp(dir, ".portal-write-check-*")
	if err != nil {
		return fmt.Errorf("sqlite: the database directory %s cannot take new files (SQLite needs its -wal and -shm files there): %s", dir, writeProblem(err))
	}
	name := probe.Name()
	probe.Close()
	os.Remove(name)
	return nil
}

// writeProblem names the cause of a failed write in plain words.
func writeProblem(err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "the file system is mounted read-only"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied for this user (uid " + strconv.Itoa(os.Geteuid()) + "); check the owner and mode"
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full"
	default:
		return err.Error()
	}
}

// checkSchemaVersion refuses a database that has applied a migration this
// binary does not have (sqlstore.SchemaVersionError).
func checkSchemaVersion(ctx context.Context, db *sql.DB, provider *goose.Provider) error {
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if exists == 0 {
		return nil // a new database
	}
	applied, err := sqlstore.AppliedSchemaVersions(ctx, db)
	if err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	var known []int64
	for _, s := range provider.ListSources() {
		known = append(known, s.Version)
	}
	return sqlstore.SchemaVersionError(ErrNewerSchema, applied, known)
}

// writeCheckWait bounds how long /readyz waits for the write lock.
const writeCheckWait = 1500 * time.Millisecond

// checkWrite makes a write and rolls it back, so that /readyz fails on a
// database that answers reads but refuses writes (a read-only file, a full
// disk, a lock held from outside).
func checkWrite(ctx context.Context, db *sql.DB) error {
	// SQLite's busy wait does not end with the context: on its own
	// connection, the check waits for a lock held elsewhere for at most
	// writeCheckWait, then the connection gets the usual wait back.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: write check: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", writeCheckWait.Milliseconds())); err != nil {
		return fmt.Errorf("sqlite: write check: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = "+busyTimeoutMS)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: the database takes no write lock: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO health (id) VALUES (1)`); err != nil {
		if strings.Contains(err.Error(), "readonly") {
			return fmt.Errorf("sqlite: the database refuses writes (read-only): %w", err)
		}
		return fmt.Errorf("sqlite: write check: %w", err)
	}
	return nil
}
