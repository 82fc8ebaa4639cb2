package sqlite

import (
	"context"

	"enrollportal/internal/store"
)

func (s queries) InsertAudit(ctx context.Context, e store.AuditEntry) error {
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO audit_log (at, actor_type, actor, action, target_type, target, ip, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		unix(e.At), e.ActorType, e.Actor, e.Action, e.TargetType, e.Target, e.IP, e.Details)
	return wrap("insert audit", err)
}

const auditColumns = `id, at, actor_type, actor, action, target_type, target, ip, details`

func (s queries) AuditForTarget(ctx context.Context, targetType, target string, limit int) ([]store.AuditEntry, error) {
	return s.auditEntries(ctx, "audit for target", `
		SELECT `+auditColumns+`
		FROM audit_log WHERE target_type = ? AND target = ? ORDER BY id DESC LIMIT ?`, targetType, target, limit)
}

// auditEntries runs a query that selects auditColumns and reads its rows.
func (s queries) auditEntries(ctx context.Context, op, query string, args ...any) ([]store.AuditEntry, error) {
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorType, &e.Actor, &e.Action, &e.TargetType, &e.Target, &e.IP, &e.Details); err != nil {
			return nil, wrap(op, err)
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	return out, wrap(op, rows.Err())
}
