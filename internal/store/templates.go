package store

import (
	"context"
	"time"
)

// MessageTemplate is an admin-edited message text saved for next time (the
// bulk enrollment email, the activation messages).
type MessageTemplate struct {
	Name      string
	Subject   string
	Body      string
	UpdatedAt time.Time
}

// TemplateQueries reads and writes saved message texts.
type TemplateQueries interface {
	// MessageTemplate returns the saved text called name, or ErrNotFound.
	MessageTemplate(ctx context.Context, name string) (MessageTemplate, error)
	// PutMessageTemplate saves t, replacing a saved text of the same name.
	PutMessageTemplate(ctx context.Context, t MessageTemplate) error
}
