package sqlite

import (
	"context"

	"enrollportal/internal/store"
)

func (s queries) EnqueueMessage(ctx context.Context, m *store.Message) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		INSERT INTO outbox (intent_key, channel, recipient, subject, body_text, body_html, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (intent_key) DO NOTHING`,
		m.IntentKey, m.Channel, m.Recipient, m.Subject, m.BodyText, m.BodyHTML, unix(m.NextAttemptAt), unix(m.CreatedAt))
	if err != nil {
		return false, wrap("enqueue message", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, wrap("enqueue message", err)
	}
	id, err := res.LastInsertId()
	m.ID = id
	m.Status = store.MessagePending
	return true, wrap("enqueue message", err)
}
