package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"enrollportal/internal/store"
)

// The login cache: what every login reads of a user (store.LoginSubject)
// kept in memory, so that a login of an enrolled user reads no table (the
// phone and membership rows of a large user table cost most of a preauth:
// bench/duo). It is only as good as its invalidation, which has two paths:
//
//   - The login_changes table (migration 00320), which triggers fill on every
//     write to a login input, whoever makes it: this process, a `portal`
//     command beside it, another instance on the same database. The cache
//     reads the rows it has not seen at least every loginPollInterval, and
//     forgets the users they name; a NULL user_id (the configuration
//     changed) empties the policy and application cache (cache.go).
//   - This process's own writes: the backend counts the commits of its
//     connections (NewCounted; both backends' connectors do), and a read after a
//     commit reads the log first, so that a write here is seen by the very
//     next login here, not 250 ms later. A backend that counts nothing
//     (New) keeps no users in memory: the log then serves only the policy
//     and application cache, which this process's writes empty themselves.
//
// The lockout's attempt reservation and the passcode check read the
// database, never this cache.

// loginPollInterval bounds how old the cache's view of other processes'
// writes may be: a read polls the log when the last poll is older. Issue 13
// asks that an instance sees another's change within a second.
const loginPollInterval = 250 * time.Millisecond

// loginCacheLimit bounds the users kept (bench/duo measures the memory at
// 100,000 users). Beyond it, an arbitrary entry makes room.
const loginCacheLimit = 100_000

// loginPollBatch is the most log rows one poll applies one by one; a longer
// backlog (a large import) empties the cache instead.
const loginPollBatch = 5_000

// loginWarmBatch is how many users one warm-up query loads.
const loginWarmBatch = 500

// loginCache is the cache of login subjects by username.
type loginCache struct {
	db *sql.DB
	// users tells whether users are kept: only when commits counts this
	// process's commits.
	users bool
	// loadAfter reads the login subjects of the n users after an id, in id
	// order, for the warm-up.
	loadAfter func(ctx context.Context, afterID int64, n int) ([]store.LoginSubject, error)
	commits   *atomic.Uint64 // commits by this process's connections
	config    *configCache
	now       func() time.Time
	interval  time.Duration
	limit     int
	// gapsRolledBack: the log's seq has gaps where a transaction rolled
	// back (PostgreSQL's sequences), so a gap does not mean pruned rows.
	gapsRolledBack bool

	// pollMu makes polls one at a time; started, lastSeq and the two below
	// change under it.
	pollMu   sync.Mutex
	started  bool
	lastSeq  int64
	synced   atomic.Uint64 // commits as of the last poll's start
	polledAt atomic.Int64  // UnixNano of the last poll's start

	// The warm-up (one at a time, in the background) and its end at Close.
	ctx       context.Context
	cancel    context.CancelFunc
	warmMu    sync.Mutex
	warming   bool
	warmAgain bool
	warmDone  chan struct{} // closed when the running warm-up ends
	closed    bool
	warmers   sync.WaitGroup

	mu      sync.Mutex
	gen     uint64            // advances at every forgetting
	entries map[string][]byte // packed (loginpack.go); never changed once kept
	names   map[int64]string  // user id -> username of its entry
}

func newLoginCache(db *sql.DB, d *Dialect, commits *atomic.Uint64, config *configCache) *loginCache {
	ctx, cancel := context.WithCancel(context.Background())
	c := &loginCache{db: db, users: commits != nil, commits: commits, config: config, now: time.Now,
		interval: loginPollInterval, limit: loginCacheLimit, entries: map[string][]byte{},
		names: map[int64]string{}, ctx: ctx, cancel: cancel, gapsRolledBack: d.postgres()}
	if c.commits == nil {
		c.commits = &atomic.Uint64{}
	}
	c.loadAfter = queries{q: db, d: d}.loginSubjectsAfter
	return c
}

// start sets the log position to its end, at the first poll: the cache is
// empty, so nothing before it can be stale. Until it succeeds (a database
// without the log), every read goes to the tables.
func (c *loginCache) start(ctx context.Context) error {
	var seq sql.NullInt64
	if err := c.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM login_changes`).Scan(&seq); err != nil {
		return wrap("login changes", err)
	}
	c.lastSeq = seq.Int64
	c.started = true
	return nil
}

// warmInBackground loads every user, up to the limit, in the background:
// at start, and after the cache was emptied by a bulk change (an import, a
// directory sync), so that logins do not each pay a miss to refill it. It
// returns a channel closed when that warm-up (or the one running, which
// then runs once more) ends.
func (c *loginCache) warmInBackground() <-chan struct{} {
	c.warmMu.Lock()
	defer c.warmMu.Unlock()
	if c.closed {
		done := make(chan struct{})
		close(done)
		return done
	}
	if c.warming {
		c.warmAgain = true
		return c.warmDone
	}
	c.warming = true
	done := make(chan struct{})
	c.warmDone = done
	c.warmers.Add(1)
	go func() {
		defer c.warmers.Done()
		defer close(done)
		for {
			c.warm(c.ctx)
			c.warmMu.Lock()
			again := c.warmAgain && !c.closed
			c.warmAgain, c.warming = false, again
			c.warmMu.Unlock()
			if !again {
				return
			}
		}
	}()
	return done
}

// warm loads users in batches until the cache is full or every user is
// in. A batch is kept under the same rule as any read (put): not if
// something was forgotten while it loaded.
func (c *loginCache) warm(ctx context.Context) {
	var after int64
	for c.users && ctx.Err() == nil && c.size() < c.limit {
		if c.sync(ctx) != nil {
			return
		}
		c.mu.Lock()
		gen := c.gen
		c.mu.Unlock()
		batch, err := c.loadAfter(ctx, after, loginWarmBatch)
		if err != nil || len(batch) == 0 {
			return
		}
		c.putBatch(gen, batch)
		after = batch[len(batch)-1].User.ID
	}
}

// putBatch keeps a warm-up batch loaded after gen, without evicting, and
// without replacing what a login put meanwhile.
func (c *loginCache) putBatch(gen uint64, batch []store.LoginSubject) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	for _, ls := range batch {
		if len(c.entries) >= c.limit {
			return
		}
		if _, ok := c.names[ls.User.ID]; ok {
			continue
		}
		if _, ok := c.entries[ls.User.Username]; ok {
			continue
		}
		c.entries[ls.User.Username] = packLoginSubject(nil, ls)
		c.names[ls.User.ID] = ls.User.Username
	}
}

// stop ends the warm-up and waits for it, before the database closes.
func (c *loginCache) stop() {
	c.warmMu.Lock()
	c.closed = true
	c.warmMu.Unlock()
	c.cancel()
	c.warmers.Wait()
}

// fresh reports whether the cache has seen every commit of this process
// and polled the log within the interval.
func (c *loginCache) fresh() bool {
	return c.commits.Load() == c.synced.Load() && c.now().UnixNano()-c.polledAt.Load() < int64(c.interval)
}

// sync polls the log unless the cache is fresh. An error leaves the cache
// unusable for this read (the caller reads the database).
func (c *loginCache) sync(ctx context.Context) error {
	if c.fresh() {
		return nil
	}
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	if c.fresh() {
		return nil
	}
	// Taken before the query: a commit or a change after this moment is
	// either in the query's snapshot or left for the next poll.
	commits, at := c.commits.Load(), c.now()
	if !c.started {
		if err := c.start(ctx); err != nil {
			return err
		}
	} else if err := c.poll(ctx); err != nil {
		return err
	}
	c.synced.Store(commits)
	c.polledAt.Store(at.UnixNano())
	return nil
}

// poll reads the log rows after lastSeq and forgets what they name.
func (c *loginCache) poll(ctx context.Context) error {
	rows, err := c.db.QueryContext(ctx, `
		SELECT seq, user_id FROM login_changes WHERE seq > ? ORDER BY seq LIMIT ?`, c.lastSeq, loginPollBatch+1)
	if err != nil {
		return wrap("login changes", err)
	}
	defer rows.Close()
	var users []int64
	all, config, n, next := false, false, 0, c.lastSeq+1
	for rows.Next() {
		var seq int64
		var user sql.NullInt64
		if err := rows.Scan(&seq, &user); err != nil {
			return wrap("login changes", err)
		}
		n++
		// A gap: rows this cache never saw were pruned (it fell 100,000
		// behind), or a backlog too long to apply row by row. On
		// PostgreSQL a rolled-back transaction leaves a gap too; there
		// rows are pruned only 100,000 behind the newest, so a cache that
		// missed pruned rows finds more than a batch after them and
		// forgets everything by the batch limit. The log's order is the
		// commits' order on both: every write to a login input holds the
		// write lock until it commits (SQLite's, or the advisory one of
		// PostgreSQL's Dialect.BeginWrite and lone writes).
		if (seq != next && !c.gapsRolledBack) || n > loginPollBatch {
			all = true
		}
		if user.Valid {
			users = append(users, user.Int64)
		} else {
			config = true
		}
		next = seq + 1
	}
	if err := rows.Err(); err != nil {
		return wrap("login changes", err)
	}
	if n == 0 {
		return nil
	}
	if config {
		c.config.reset()
	}
	if all {
		var last sql.NullInt64
		if err := c.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM login_changes`).Scan(&last); err != nil {
			return wrap("login changes", err)
		}
		c.forgetAll()
		c.lastSeq = max(last.Int64, next-1)
		c.warmInBackground()
		return nil
	}
	c.forget(users)
	c.lastSeq = next - 1
	return nil
}

// forget drops the entries of users.
func (c *loginCache) forget(users []int64) {
	if len(users) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range users {
		if name, ok := c.names[id]; ok {
			delete(c.entries, name)
			delete(c.names, id)
		}
	}
}

// forgetAll empties the cache, and the configuration cache with it.
func (c *loginCache) forgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	clear(c.names)
	c.mu.Unlock()
	c.config.reset()
}

// get answers username from the cache, and the generation a load that
// misses must present to put.
func (c *loginCache) get(username string) (store.LoginSubject, bool, uint64) {
	c.mu.Lock()
	packed, ok := c.entries[username]
	gen := c.gen
	c.mu.Unlock()
	if !ok {
		return store.LoginSubject{}, false, gen
	}
	ls, err := unpackLoginSubject(packed)
	if err != nil {
		return store.LoginSubject{}, false, gen
	}
	return ls, true, gen
}

// userByID answers the user of id from the cache, when kept.
func (c *loginCache) userByID(id int64) (store.User, bool) {
	c.mu.Lock()
	name, ok := c.names[id]
	var packed []byte
	if ok {
		packed, ok = c.entries[name]
	}
	c.mu.Unlock()
	if !ok {
		return store.User{}, false
	}
	ls, err := unpackLoginSubject(packed)
	if err != nil || ls.User.ID != id {
		return store.User{}, false
	}
	return ls.User, true
}

// put keeps ls, loaded after get answered gen, unless something was
// forgotten since: the load may predate that change.
func (c *loginCache) put(gen uint64, ls store.LoginSubject) {
	packed := packLoginSubject(nil, ls)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if old, ok := c.names[ls.User.ID]; ok && old != ls.User.Username {
		delete(c.entries, old)
	}
	if _, ok := c.entries[ls.User.Username]; !ok && len(c.entries) >= c.limit {
		for name, victim := range c.entries {
			delete(c.entries, name)
			delete(c.names, packedUserID(victim))
			break
		}
	}
	c.entries[ls.User.Username] = packed
	c.names[ls.User.ID] = ls.User.Username
}

// size is the number of users kept.
func (c *loginCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
