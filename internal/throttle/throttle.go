package throttle

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"enrollportal/internal/clock"
)

// Limiter is a token bucket per key: Burst tries at once, then one every
// Every. Keys idle for an hour are forgotten.
type Limiter struct {
	clock   clock.Clock
	every   time.Duration
	burst   int
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a Limiter that allows burst tries and then one per every.
func New(c clock.Clock, burst int, every time.Duration) *Limiter {
	return &Limiter{clock: c, every: every, burst: burst, buckets: map[string]*bucket{}, swept: c.Now()}
}

// Allow spends one try of key and reports whether it was available.
func (l *Limiter) Allow(key string) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > 10*time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > time.Hour {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// RetryAfter is how long a caller refused by Allow should wait, rounded up to
// whole seconds, for a Retry-After header.
func (l *Limiter) RetryAfter() time.Duration {
	return l.every.Round(time.Second) + time.Second
}

// Exhausted reports, without spending a try, whether key has none left. Check
// it before a lookup whose outcome must not leak once a client is refused.
func (l *Limiter) Exhausted(key string) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	return b != nil && b.lim.TokensAt(now) < 1
}
