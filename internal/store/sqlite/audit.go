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

func (s queries) AuditForTarget(ctx context.Context, targetType, target string, limit int) ([]store.AuditEntry, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, at, actor_type, actor, action, target_type, target, ip, details
		FROM audit_log WHERE target_type = ? AND target = ? ORDER BY id DESC LIMIT ?`, targetType, target, limit)
	if err != nil {
		return nil, wrap("audit for target", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorType, &e.Actor, &e.Action, &e.TargetType, &e.Target, &e.IP, &e.Details); err != nil {
			return nil, wrap("audit for target", err)
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	return out, wrap("audit for target", rows.Err())
}
