package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"enrollportal/internal/store"
)

func (s queries) EnqueueMessage(ctx context.Context, m *store.Message) (bool, error) {
	// RETURNING gives no row when the intent was already queued.
	var id int64
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO outbox (intent_key, channel, priority, recipient, subject, body_text, body_html, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (intent_key) DO NOTHING RETURNING id`,
		m.IntentKey, m.Channel, m.Priority, m.Recipient, m.Subject, m.BodyText, m.BodyHTML, unix(m.NextAttemptAt), unix(m.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("enqueue message", err)
	}
	m.ID = id
	m.Status = store.MessagePending
	return true, nil
}

const messageColumns = `id, intent_key, channel, priority, recipient, subject, body_text, body_html, status,
	attempts, next_attempt_at, last_error, created_at, sent_at, claimed_until, claimed_by`

func scanMessage(r interface{ Scan(...any) error }) (store.Message, error) {
	var m store.Message
	var next, created int64
	var sent, claimed sql.NullInt64
	var by sql.NullString
	err := r.Scan(&m.ID, &m.IntentKey, &m.Channel, &m.Priority, &m.Recipient, &m.Subject, &m.BodyText, &m.BodyHTML, &m.Status,
		&m.Attempts, &next, &m.LastError, &created, &sent, &claimed, &by)
	m.ClaimedBy = by.String
	m.NextAttemptAt, m.CreatedAt = fromUnix(next), fromUnix(created)
	m.SentAt, m.ClaimedUntil = fromNullUnix(sent), fromNullUnix(claimed)
	return m, err
}

func (s queries) ClaimMessages(ctx context.Context, by string, channels []string, now, until time.Time, limit int) ([]store.Message, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	// Two workers never lease the same row: in SQLite one UPDATE runs at a
	// time, and on PostgreSQL the pick locks its rows and skips those
	// another worker's claim holds (skipLocked). A row whose lease ended is
	// taken over as if it were pending.
	args := []any{unix(until), by}
	for _, c := range channels {
		args = append(args, c)
	}
	args = append(args, unix(now), unix(now), limit)
	rows, err := s.q.QueryContext(ctx, `
		UPDATE outbox SET status = 'sending', claimed_until = ?, claimed_by = NULLIF(?, ''), attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE channel IN (?`+strings.Repeat(", ?", len(channels)-1)+`)
			  AND ((status = 'pending' AND next_attempt_at <= ?)
			    OR (status = 'sending' AND claimed_until <= ?))
			ORDER BY priority DESC, id LIMIT ?`+s.d.skipLocked()+`)
		RETURNING `+messageColumns, args...)
	if err != nil {
		return nil, wrap("claim messages", err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, wrap("claim messages", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("claim messages", err)
	}
	// RETURNING has no order; delivery order matters: a login's passcode
	// goes first, and an activation's install SMS before its link.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s queries) MarkMessageSent(ctx context.Context, id int64, claimedUntil, at time.Time, bodyText, bodyHTML string) (bool, error) {
	return s.claimUpdate(ctx, "mark message sent", `
		UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, claimed_by = NULL, last_error = '', body_text = ?, body_html = ?
		WHERE id = ? AND status = 'sending' AND claimed_until = ?`, unix(at), bodyText, bodyHTML, id, unix(claimedUntil))
}

func (s queries) MarkMessageRetry(ctx context.Context, id int64, claimedUntil, next time.Time, lastError string, failed bool) (bool, error) {
	status := store.MessagePending
	if failed {
		status = store.MessageFailed
	}
	return s.claimUpdate(ctx, "mark message retry", `
		UPDATE outbox SET status = ?, next_attempt_at = ?, last_error = ?, claimed_until = NULL, claimed_by = NULL
		WHERE id = ? AND status = 'sending' AND claimed_until = ?`, status, unix(next), lastError, id, unix(claimedUntil))
}

func (s queries) ReopenMessage(ctx context.Context, id int64, next time.Time, bodyText, bodyHTML, lastError string, failed bool) (bool, error) {
	status := store.MessagePending
	if failed {
		status = store.MessageFailed
	}
	return s.claimUpdate(ctx, "reopen message", `
		UPDATE outbox SET status = ?, sent_at = NULL, next_attempt_at = ?, last_error = ?, body_text = ?, body_html = ?
		WHERE id = ? AND status = 'sent'`, status, unix(next), lastError, bodyText, bodyHTML, id)
}

func (s queries) ReleaseMessage(ctx context.Context, id int64, claimedUntil, due time.Time) (bool, error) {
	return s.claimUpdate(ctx, "release message", `
		UPDATE outbox SET status = 'pending', claimed_until = NULL, claimed_by = NULL, next_attempt_at = ?, attempts = `+s.d.greatest("attempts - 1", "0")+`
		WHERE id = ? AND status = 'sending' AND claimed_until = ?`, unix(due), id, unix(claimedUntil))
}

func (s queries) claimUpdate(ctx context.Context, op, query string, args ...any) (bool, error) {
	res, err := s.q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(op, err)
}

func (s queries) ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, int, error) {
	where, args := "", []any{}
	if f.Status != "" {
		where, args = "WHERE status = ?", append(args, f.Status)
	}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox `+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("count messages", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.q.QueryContext(ctx, `SELECT `+messageColumns+` FROM outbox `+where+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, wrap("list messages", err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, 0, wrap("list messages", err)
		}
		out = append(out, m)
	}
	return out, total, wrap("list messages", rows.Err())
}

func (s queries) MessageByID(ctx context.Context, id int64) (store.Message, error) {
	m, err := scanMessage(s.q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM outbox WHERE id = ?`, id))
	return m, wrap("message by id", err)
}

func (s queries) CountMessagesByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, wrap("count messages by status", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, wrap("count messages by status", err)
		}
		out[status] = n
	}
	return out, wrap("count messages by status", rows.Err())
}

func (s queries) RetryMessageNow(ctx context.Context, id int64, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0, claimed_until = NULL
		WHERE id = ? AND status IN ('pending', 'failed')`, unix(now), id)
	if err != nil {
		return wrap("retry message now", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = store.ErrNotFound
		}
		return wrap("retry message now", err)
	}
	return nil
}
