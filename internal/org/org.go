package org

import (
	"context"
	"sync"
	"time"

	"enrollportal/internal/store"
)

// DefaultName is shown until an admin names the organisation.
const DefaultName = "Enrollment Portal"

// SettingName is the settings row that holds the organisation's name.
const SettingName = "org_name"

// Settings reads the organisation's settings. A name fixed at start (the
// PORTAL_ORG_NAME variable) wins over the stored one.
type Settings struct {
	store store.Store
	fixed string

	mu      sync.Mutex
	name    string
	fetched time.Time
}

// New returns Settings backed by st; fixedName may be empty.
func New(st store.Store, fixedName string) *Settings {
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
	name, err := s.store.Setting(ctx, SettingName)
	if err != nil || name == "" {
		name = DefaultName
	}
	s.name, s.fetched = name, time.Now()
	return name
}

// Forget drops the cached values, after an admin changed them.
func (s *Settings) Forget() {
	s.mu.Lock()
	s.name = ""
	s.mu.Unlock()
}
