package sqlstore

import (
	"context"

	"enrollportal/internal/store"
)

func (s queries) MessageTemplate(ctx context.Context, name string) (store.MessageTemplate, error) {
	t := store.MessageTemplate{Name: name}
	var updated int64
	err := s.q.QueryRowContext(ctx, `SELECT subject, body, updated_at FROM message_templates WHERE name = ?`, name).
		Scan(&t.Subject, &t.Body, &updated)
	t.UpdatedAt = fromUnix(updated)
	return t, wrap("message template", err)
}

func (s queries) PutMessageTemplate(ctx context.Context, t store.MessageTemplate) error {
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO message_templates (name, subject, body, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`,
		t.Name, t.Subject, t.Body, unix(t.UpdatedAt))
	return wrap("put message template", err)
}
