package sqlstore

import (
	"context"
	"slices"
	"sync"

	"enrollportal/internal/store"
)

// configCache keeps in memory the rows every sign-in and enrollment page
// reads but admins rarely change: policies and applications. Any write to
// them empties it, inside a transaction or not, and a transaction that wrote
// empties it again when it commits. A reader stores what it read only if
// nothing was emptied since it started, so no reader keeps a value older than
// the last commit.
type configCache struct {
	mu            sync.Mutex
	gen           uint64
	global        *store.Policy
	policies      map[int64]store.Policy
	groupPolicies map[int64][]store.GroupPolicy
	apps          map[string]store.Application // by "client:ID" and "key:KEY"
}

func newConfigCache() *configCache {
	c := &configCache{}
	c.reset()
	return c
}

// reset empties the cache; callers hold no lock.
func (c *configCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.global = nil
	c.policies = map[int64]store.Policy{}
	c.groupPolicies = map[int64][]store.GroupPolicy{}
	c.apps = map[string]store.Application{}
}

func (c *configCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put runs store under the lock if the cache was not emptied since gen.
func (c *configCache) put(gen uint64, store func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		store()
	}
}

func clonePolicy(p store.Policy) store.Policy {
	p.DeniedCountries = slices.Clone(p.DeniedCountries)
	p.EnrollMethods = slices.Clone(p.EnrollMethods)
	p.AuthMethods = slices.Clone(p.AuthMethods)
	return p
}

func cloneApp(a store.Application) store.Application {
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	a.PermittedGroups = slices.Clone(a.PermittedGroups)
	a.AdminGrants = slices.Clone(a.AdminGrants)
	if a.PolicyID != nil {
		id := *a.PolicyID
		a.PolicyID = &id
	}
	return a
}

// cached answers a read from the cache when q may use it (not inside a
// transaction, which must see its own writes), else loads it and, when
// allowed, keeps it.
func cached[T any](ctx context.Context, s queries, get func(*configCache) (T, bool), load func() (T, error), keep func(*configCache, T), clone func(T) T) (T, error) {
	if s.cache == nil || s.tx != nil {
		return load()
	}
	// Another process's change to the configuration empties the cache
	// through the login change log (logincache.go).
	if s.login != nil {
		if err := s.login.sync(ctx); err != nil {
			return load()
		}
	}
	s.cache.mu.Lock()
	v, ok := get(s.cache)
	s.cache.mu.Unlock()
	if ok {
		return clone(v), nil
	}
	gen := s.cache.generation()
	v, err := load()
	if err != nil {
		return v, err
	}
	kept := clone(v)
	s.cache.put(gen, func() { keep(s.cache, kept) })
	return v, nil
}

// invalidate empties the cache after a write to policies or applications and
// marks the transaction, if any, to empty it again at commit.
func (s queries) invalidate() {
	if s.cache != nil {
		s.cache.reset()
	}
	if s.tx != nil {
		s.tx.wroteConfig = true
	}
}

// txState is what a transaction's queries remember until commit.
type txState struct {
	wroteConfig bool
}
