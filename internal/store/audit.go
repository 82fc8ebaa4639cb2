package store

import (
	"context"
	"time"
)

// AuditEntry is one record of the audit log: who did what to what, when and
// from where.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorType  string // user, admin, system, cli, application
	Actor      string
	Action     string
	TargetType string
	Target     string
	IP         string
	Details    string // JSON object, or empty
	// RepeatKey names a login decision (action, reason, application and
	// username) whose repeats count on one record instead of adding rows;
	// empty for every other entry.
	RepeatKey string
	// Count is how many times the event happened: 1, or more for a login
	// decision repeated within the repeat window. LastAt is the time of the
	// latest repeat (equal to At when there was none).
	Count  int
	LastAt time.Time
}

// AuditQueries writes and reads the audit log.
type AuditQueries interface {
	InsertAudit(ctx context.Context, e AuditEntry) error
	// CountAuditRepeat adds one to the count of the newest entry with key
	// written after since, records at as its latest repeat, and
	// reports whether there was such an entry.
	CountAuditRepeat(ctx context.Context, key string, since, at time.Time) (bool, error)
	// DeleteAuditBefore deletes up to limit of the oldest entries whose
	// latest event is before cutoff and returns how many it deleted.
	DeleteAuditBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	// AuditForTarget lists the newest entries about one target first.
	AuditForTarget(ctx context.Context, targetType, target string, limit int) ([]AuditEntry, error)
}
