package bulk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
)

// TemplateName is the message_templates row of the saved bulk enrollment text.
const TemplateName = "bulk_enroll"

// ErrNothingToSend means no row of the send creates or relinks a user.
var ErrNothingToSend = errors.New("bulk: nothing to send")

// InvalidTextError lists what is wrong with the message text, as sentences.
type InvalidTextError struct{ Problems []string }

func (e *InvalidTextError) Error() string {
	return "bulk: invalid message text: " + strings.Join(e.Problems, " ")
}

// Report is what a send applied (so far, while its job runs).
type Report struct {
	Created  int `json:"created"`  // users created, each with a link and an email
	Relinked int `json:"relinked"` // existing users given a fresh link and an email
	Skipped  int `json:"skipped"`  // already enrolled (perhaps since the preview)
	Messages int `json:"messages"` // emails queued
}

// Text returns the saved bulk enrollment text, or the default one.
func (s *Service) Text(ctx context.Context) (notify.Text, error) {
	t, err := s.store.MessageTemplate(ctx, TemplateName)
	if errors.Is(err, store.ErrNotFound) {
		return notify.DefaultEnrollment, nil
	}
	if err != nil {
		return notify.Text{}, fmt.Errorf("bulk: load text: %w", err)
	}
	return notify.Text{Subject: t.Subject, Body: t.Body}, nil
}

// SaveText checks and saves the bulk enrollment text for next time.
func (s *Service) SaveText(ctx context.Context, t notify.Text, who audit.Who) error {
	if problems := notify.ValidateText(notify.KindEnrollment, t); len(problems) > 0 {
		return &InvalidTextError{Problems: problems}
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.PutMessageTemplate(ctx, store.MessageTemplate{Name: TemplateName, Subject: t.Subject, Body: t.Body, UpdatedAt: now}); err != nil {
			return fmt.Errorf("bulk: save text: %w", err)
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.MessageTemplateSaved, audit.TargetTemplate, TemplateName, nil))
	})
}
