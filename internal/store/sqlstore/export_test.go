package sqlstore

import (
	"context"
	"time"

	"enrollportal/internal/store"
)

// LoginPollInterval is loginPollInterval, for tests that move a fake clock
// past it.
const LoginPollInterval = loginPollInterval

// SetLoginCacheClock makes d's login cache read the time from now, starting
// its poll interval at now().
func SetLoginCacheClock(d *DB, now func() time.Time) {
	waitWarm(d)
	if err := d.login.sync(context.Background()); err != nil {
		panic(err)
	}
	d.login.now = now
	d.login.polledAt.Store(now().UnixNano())
}

// SetLoginCacheLimit bounds the users d's login cache keeps.
func SetLoginCacheLimit(d *DB, n int) {
	waitWarm(d)
	d.login.limit = n
}

// waitWarm waits for the warm-up running, if any, so that a test changes
// the cache's settings while no other goroutine reads them.
func waitWarm(d *DB) {
	d.login.warmMu.Lock()
	done := d.login.warmDone
	running := d.login.warming
	d.login.warmMu.Unlock()
	if running {
		<-done
	}
}

// LoginCacheSize is how many users d's login cache keeps.
func LoginCacheSize(d *DB) int { return d.login.size() }

// HasFactorStatement is the statement of HasFactor, for a test of its plan.
func HasFactorStatement() string { return hasFactorQuery }

// RepackLoginSubject packs ls as the login cache keeps it and reads it back.
func RepackLoginSubject(ls store.LoginSubject) (store.LoginSubject, error) {
	return unpackLoginSubject(packLoginSubject(nil, ls))
}

// PackedLoginSubject is ls as the login cache keeps it.
func PackedLoginSubject(ls store.LoginSubject) []byte { return packLoginSubject(nil, ls) }

// UnpackLoginSubject reads an entry of the login cache.
func UnpackLoginSubject(packed []byte) (store.LoginSubject, error) { return unpackLoginSubject(packed) }
