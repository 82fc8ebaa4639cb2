package org

import (
	"context"
	"sync"
	"time"

	"enrollportal/internal/store"
)

// DefaultName is shown until an admin names the organisation.
const DefaultName = "Enrollment Portal"

// Settings reads the organisation's settings. A name fixed at start (the
// PORTAL_ORG_NAME variable) wins over the stored one.
type Settings struct {
	store Store
	fixed string

	mu      sync.Mutex
	name    string
	fetched time.Time
}

// Store is what Settings uses: reads, and a transaction for an admin's
// change with its audit record.
type Store interface {
	Reader
	InTx(ctx context.Context, fn func(store.Queries) error) error
}

// New returns Settings backed by st; fixedName may be empty.
func New(st Store, fixedName string) *Settings {
	return &Settings{store: st, fixed: fixedName}
}

// cacheFor is how long a read name is reused. An admin's change shows within
// this long on every page.
const cacheFor = 10 * time.Second

// Name returns the organisation's name.
func (s *Settings) Name(ctx context.Context) string {
	if s.fixed != "" {
		return s.fixed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.name != "" && time.Since(s.fetched) < cacheFor {
		return s.name
	}
	name, err := get(ctx, s.store, keyName)
	if err != nil || name == "" {
		name = DefaultName
	}
	s.name, s.fetched = name, time.Now()
	return name
}

// nameOr is the name shown when stored is the stored one ("" unset).
func (s *Settings) nameOr(stored string) string {
	switch {
	case stored != "":
		return stored
	case s.fixed != "":
		return s.fixed
	}
	return DefaultName
}

// Forget drops the cached values, after an admin changed them.
func (s *Settings) Forget() {
	s.mu.Lock()
	s.name = ""
	s.mu.Unlock()
}

// ActivationHours is how long activation links an admin sends work unless
// they choose otherwise: the stored setting, or DefaultActivationHours.
func (s *Settings) ActivationHours(ctx context.Context) (int, error) {
	return ActivationHours(ctx, s.store)
}
