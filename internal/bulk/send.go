package bulk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
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

// Report is exactly what a send applied. A send is one transaction: when it
// returns an error, nothing was applied.
type Report struct {
	Created  int // users created, each with a link and an email
	Relinked int // existing users given a fresh link and an email
	Skipped  int // already enrolled (perhaps since the preview)
	Messages int // emails queued
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

// Send enrolls rows: it creates the users that do not exist, gives every
// user without an activated factor a fresh 30-day link and queues one email
// each with text, in ONE transaction. Each row is decided again inside the
// transaction, so a user who enrolled since the preview is skipped, not sent
// a link. An existing user's email on file becomes the pasted one (audited).
func (s *Service) Send(ctx context.Context, rows []Row, text notify.Text, who audit.Who) (Report, error) {
	if problems := notify.ValidateText(notify.KindEnrollment, text); len(problems) > 0 {
		return Report{}, &InvalidTextError{Problems: problems}
	}
	var rep Report
	err := s.store.InTx(ctx, func(q store.Queries) error {
		rep = Report{}
		now := s.clock.Now()
		org, err := notify.LoadOrg(ctx, q, s.orgName(ctx), "")
		if err != nil {
			return err
		}
		for _, row := range rows {
			pr, existing, err := outcomeOf(ctx, q, row)
			if err != nil {
				return err
			}
			var u store.User
			switch pr.Outcome {
			case OutcomeSkip:
				rep.Skipped++
				continue
			case OutcomeCreate:
				u, err = users.Prepare(users.NewUser{Username: row.Username, Email: row.Email}, now)
				if err != nil {
					return fmt.Errorf("line %d: %w", row.Line, err)
				}
				if err := users.Insert(ctx, q, &u, who); err != nil {
					return fmt.Errorf("line %d: %w", row.Line, err)
				}
				rep.Created++
			case OutcomeRelink:
				u = *existing
				if u.Email != row.Email {
					old := u.Email
					u.Email, u.UpdatedAt = row.Email, now
					if err := q.UpdateUser(ctx, u); err != nil {
						return err
					}
					if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.UserUpdated, audit.TargetUser, u.Username,
						map[string]any{"email": u.Email, "old_email": old, "by": "bulk enrollment"})); err != nil {
						return err
					}
				}
				rep.Relinked++
			}
			link, err := s.enroll.IssueLinkTx(ctx, q, u, enroll.LinkTTL, who)
			if err != nil {
				return err
			}
			m := notify.EnrollmentEmail(org, u, link.URL, link.Link.ExpiresAt, &text)
			m.IntentKey = notify.EnrollLinkIntent(link.Link.ID, 1)
			if _, err := notify.Enqueue(ctx, q, m, now); err != nil {
				return err
			}
			rep.Messages++
		}
		if rep.Messages == 0 {
			return ErrNothingToSend
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.BulkEnrollmentSent, audit.TargetBulk, fmt.Sprintf("%d rows", len(rows)),
			map[string]any{"created": rep.Created, "relinked": rep.Relinked, "skipped": rep.Skipped}))
	})
	if err != nil {
		var ite *InvalidTextError
		if errors.Is(err, ErrNothingToSend) || errors.As(err, &ite) {
			return Report{}, err
		}
		return Report{}, fmt.Errorf("bulk: send: %w", err)
	}
	return rep, nil
}
