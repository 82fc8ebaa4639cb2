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
}

// AuditQueries writes and reads the audit log.
type AuditQueries interface {
	InsertAudit(ctx context.Context, e AuditEntry) error
	// AuditForTarget lists the newest entries about one target first.
	AuditForTarget(ctx context.Context, targetType, target string, limit int) ([]AuditEntry, error)
}
