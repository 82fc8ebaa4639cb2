package sqlstore

import (
	"context"
	"time"

	"enrollportal/internal/store"
)

func (s queries) InsertAudit(ctx context.Context, e store.AuditEntry) error {
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO audit_log (at, actor_type, actor, action, target_type, target, ip, details, repeat_key, last_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		unix(e.At), e.ActorType, e.Actor, e.Action, e.TargetType, e.Target, e.IP, e.Details, e.RepeatKey, unix(e.At))
	return wrap("insert audit", err)
}

func (s queries) CountAuditRepeat(ctx context.Context, key string, since, at time.Time) (bool, error) {
	// The newest entry of the key through the partial index; only that one
	// can be inside the window.
	res, err := s.q.ExecContext(ctx, `
		UPDATE audit_log SET event_count = event_count + 1, last_at = `+s.d.greatest("last_at", "?")+`
		WHERE id = (SELECT id FROM audit_log WHERE repeat_key = ? AND repeat_key <> '' ORDER BY id DESC LIMIT 1)
		  AND at > ?`, unix(at), key, unix(since))
	if err != nil {
		return false, wrap("count audit repeat", err)
	}
	n, err := res.RowsAffected()
	return n > 0, wrap("count audit repeat", err)
}

func (s queries) DeleteAuditBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	// Oldest first through audit_log_at; an entry whose repeats go on past
	// the cutoff stays (last_at 0 means no repeat: at is the latest).
	res, err := s.q.ExecContext(ctx, `
		DELETE FROM audit_log WHERE id IN (
			SELECT id FROM audit_log WHERE at < ? AND last_at < ? ORDER BY at LIMIT ?)`,
		unix(cutoff), unix(cutoff), limit)
	if err != nil {
		return 0, wrap("delete old audit", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete old audit", err)
}

const auditColumns = `id, at, actor_type, actor, action, target_type, target, ip, details, event_count, last_at`

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
		var at, lastAt int64
		if err := rows.Scan(&e.ID, &at, &e.ActorType, &e.Actor, &e.Action, &e.TargetType, &e.Target, &e.IP, &e.Details, &e.Count, &lastAt); err != nil {
			return nil, wrap(op, err)
		}
		e.At = fromUnix(at)
		e.LastAt = fromUnix(max(at, lastAt))
		out = append(out, e)
	}
	return out, wrap(op, rows.Err())
}
