package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the checkpointer looks for commits to copy
// from the WAL into the database file.
const checkpointEvery = 250 * time.Millisecond

// By default SQLite checkpoints the WAL in the commit that takes it past
// 1,000 pages (4 MB): that commit copies the pages into the database file
// and syncs both files before it returns, with the one write lock held, so
// every write queued behind it waits too. Under an import, that was most
// of the wait of the logins' writes (bench/duo BenchmarkPreauthDuringImport:
// a preauth that records a new name, p99 92 ms; 44 ms without). So no
// connection checkpoints on commit (wal_autocheckpoint = 0, connector.go),
// and this goroutine runs a PASSIVE checkpoint after new commits, which
// copies what no reader still needs without taking the write lock or
// waiting for anyone; the next writer then starts the WAL over. It stops
// with the database (DB.AtClose); closing the last connection checkpoints
// what is left.
func startCheckpointer(db *sql.DB, commits *atomic.Uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		seen := commits.Load()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n := commits.Load(); n != seen {
				seen = n
				// A failure (a read-only file, a busy checkpoint lock) is
				// tried again after the next commits; the WAL keeps
				// everything meanwhile.
				_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
