package apps

import (
	"context"
	"fmt"
	"sync"
	"time"

	"enrollportal/internal/store"
)

// usage holds the last-used times not yet written. A busy application logs
// in many times a second, and each login writing a row would cost more than
// the login itself: serve writes them once a minute (FlushUsage) and at
// shutdown.
type usage struct {
	mu      sync.Mutex
	pending map[int64]time.Time
}

// Used records that a made a successful login call (preauth, authorize or
// an Auth API call). It only touches memory; FlushUsage writes.
func (s *Service) Used(a store.Application) {
	now := s.Clock.Now()
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	if s.usage.pending == nil {
		s.usage.pending = map[int64]time.Time{}
	}
	if now.After(s.usage.pending[a.ID]) {
		s.usage.pending[a.ID] = now
	}
}

// FlushUsage writes the last-used times recorded since the last flush, in
// one statement; serve calls it once a minute and at shutdown. On failure
// the times stay pending for the next flush.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	if len(s.usage.pending) == 0 {
		s.usage.mu.Unlock()
		return nil
	}
	batch := s.usage.pending
	s.usage.pending = nil
	s.usage.mu.Unlock()
	if err := s.Store.RecordApplicationUse(ctx, batch); err != nil {
		s.usage.mu.Lock()
		for id, at := range batch {
			if s.usage.pending == nil {
				s.usage.pending = map[int64]time.Time{}
			}
			if at.After(s.usage.pending[id]) {
				s.usage.pending[id] = at
			}
		}
		s.usage.mu.Unlock()
		return fmt.Errorf("apps: flush last use: %w", err)
	}
	return nil
}

// lastUsed returns the newer of the stored last use and one not yet
// flushed, so that the admin list is current in this process.
func (s *Service) lastUsed(id int64, stored *time.Time) *time.Time {
	s.usage.mu.Lock()
	at, ok := s.usage.pending[id]
	s.usage.mu.Unlock()
	if ok && (stored == nil || at.After(*stored)) {
		return &at
	}
	return stored
}
