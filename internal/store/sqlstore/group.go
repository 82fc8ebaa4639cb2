package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"enrollportal/internal/store"
)

// The group committer: InGroupTx hands its fn to one goroutine that runs
// every fn waiting at that moment in one transaction, each in a savepoint,
// and commits once. Under load the writes of many logins share a commit
// (the expensive part of a small write); alone, a fn commits at once.

// maxGroup bounds the fns of one shared transaction, so that it stays short.
const maxGroup = 256

// groupAttempt is how long the committer waits for the write lock before
// it looks again at which callers are still waiting.
const groupAttempt = 200 * time.Millisecond

// States of a groupItem.
const (
	itemPending   int32 = iota // queued
	itemTaken                  // the committer runs it; its caller waits for the commit
	itemAbandoned              // its caller stopped waiting first; it never runs
)

type groupItem struct {
	fn    func(store.Queries) error
	state atomic.Int32
	done  chan error // buffered: the committer never blocks on it
}

type group struct {
	d       *DB
	mu      sync.Mutex
	queue   []*groupItem
	wake    chan struct{} // a token when the queue became non-empty
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	waiting atomic.Int64 // InGroupTx calls not yet returned
}

func newGroup(d *DB) *group {
	g := &group{d: d, wake: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	go g.run()
	return g
}

// errClosed answers the fns still queued when the database closes.
var errClosed = errors.New("store: database closed")

// InGroupTx runs fn in a transaction shared with the other fns queued at
// the same time (see store.Store).
func (d *DB) InGroupTx(ctx context.Context, fn func(store.Queries) error) error {
	it := &groupItem{fn: fn, done: make(chan error, 1)}
	g := d.group
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	g.mu.Lock()
	select {
	case <-g.quit:
		g.mu.Unlock()
		return errClosed
	default:
	}
	g.queue = append(g.queue, it)
	if len(g.queue) == 1 {
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
	g.mu.Unlock()
	var bound <-chan time.Time
	if wait, ok := store.LockWait(ctx); ok {
		t := time.NewTimer(wait)
		defer t.Stop()
		bound = t.C
	}
	var cause error
	select {
	case err := <-it.done:
		return err
	case <-bound:
		cause = store.ErrBusy
	case <-ctx.Done():
		cause = ctx.Err()
	}
	if it.state.CompareAndSwap(itemPending, itemAbandoned) {
		return fmt.Errorf("store: wait for the write lock: %w (%w)", store.ErrBusy, cause)
	}
	// Taken: the shared transaction holds the write lock and ends shortly;
	// fn's outcome must be reported as it is.
	return <-it.done
}

// GroupWritesWaiting reports whether InGroupTx calls (the writes of the
// login path) are waiting, for a long bulk change to commit what it has and
// let them go first.
func (d *DB) GroupWritesWaiting() bool { return d.group.waiting.Load() > 0 }

func (g *group) stop() {
	g.once.Do(func() {
		g.mu.Lock()
		close(g.quit)
		g.mu.Unlock()
		<-g.stopped
	})
}

func (g *group) run() {
	defer close(g.stopped)
	for {
		select {
		case <-g.quit:
			g.fail(g.take(len(g.queue)), errClosed)
			return
		case <-g.wake:
		}
		for {
			batch := g.take(maxGroup)
			if len(batch) == 0 {
				break
			}
			g.commit(batch)
		}
	}
}

// take removes up to n items from the queue.
func (g *group) take(n int) []*groupItem {
	g.mu.Lock()
	defer g.mu.Unlock()
	n = min(n, len(g.queue))
	batch := make([]*groupItem, n)
	copy(batch, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return batch
}

func (g *group) fail(batch []*groupItem, err error) {
	for _, it := range batch {
		if it.state.CompareAndSwap(itemPending, itemTaken) {
			it.done <- err
		}
	}
}

// live drops the items whose callers gave up.
func live(batch []*groupItem) []*groupItem {
	out := batch[:0]
	for _, it := range batch {
		if it.state.Load() == itemPending {
			out = append(out, it)
		}
	}
	return out
}

// commit runs batch in one transaction. It waits for the write lock in
// short attempts, so that callers who stop waiting are dropped rather than
// written late, after they were answered with an error.
func (g *group) commit(batch []*groupItem) {
	var tx *sql.Tx
	for {
		if batch = live(batch); len(batch) == 0 {
			return
		}
		select {
		case <-g.quit:
			g.fail(batch, errClosed)
			return
		default:
		}
		t, err := g.d.beginWrite(attempt{Context: context.Background(), until: time.Now().Add(groupAttempt)})
		if err == nil {
			tx = t
			break
		}
		if !errors.Is(err, store.ErrBusy) {
			g.fail(batch, err)
			return
		}
	}
	defer g.d.endWrite()
	// Items queued while the lock was awaited join this transaction.
	if more := maxGroup - len(batch); more > 0 {
		batch = append(batch, g.take(more)...)
	}
	taken := batch[:0]
	for _, it := range batch {
		if it.state.CompareAndSwap(itemPending, itemTaken) {
			taken = append(taken, it)
		}
	}
	if len(taken) == 0 {
		_ = tx.Rollback()
		return
	}
	state := &txState{}
	q := queries{q: tx, cache: g.d.cache, tx: state, d: g.d.dialect}
	results := make([]error, len(taken))
	for i, it := range taken {
		results[i] = runSavepoint(tx, q, it.fn, len(taken) > 1)
	}
	if len(taken) == 1 && results[0] != nil {
		_ = tx.Rollback()
		taken[0].done <- results[0]
		return
	}
	if err := g.d.commit(tx, state); err != nil {
		for _, it := range taken {
			it.done <- err
		}
		return
	}
	for i, it := range taken {
		it.done <- results[i]
	}
}

// attempt is the context of the committer's BEGIN: its deadline bounds the
// wait for another process's write lock (connector.fit reads it), but it
// is never done, because database/sql rolls a transaction back when the
// context it began under is done, and the shared transaction must outlive
// the attempt.
type attempt struct {
	context.Context
	until time.Time
}

func (a attempt) Deadline() (time.Time, bool) { return a.until, true }

// runSavepoint runs fn, inside a savepoint when it shares the transaction,
// so that its error (or panic) undoes its own writes only.
func runSavepoint(tx *sql.Tx, q queries, fn func(store.Queries) error, shared bool) (err error) {
	ctx := context.Background()
	if shared {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT grouped"); err != nil {
			return wrap("savepoint", err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: grouped write panicked: %v", r)
		}
		if !shared {
			return
		}
		if err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO grouped"); rerr != nil {
				err = errors.Join(err, wrap("rollback to savepoint", rerr))
			}
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE grouped"); rerr != nil {
			err = errors.Join(err, wrap("release savepoint", rerr))
		}
	}()
	return fn(q)
}

// WaitingGroupWrites is how many InGroupTx calls are waiting for their
// shared transaction.
func (d *DB) WaitingGroupWrites() int { return int(d.group.waiting.Load()) }
