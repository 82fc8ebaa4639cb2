package enroll

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// HasValidEmail tells whether an enrollment email could go to u.
func HasValidEmail(u store.User) bool {
	return u.Email != "" && users.ValidateEmail(u.Email) == nil
}

// SendLinkEmail issues a fresh enrollment link for u (ending any older one)
// and writes its email to the outbox, with the audit records, in one
// transaction. ErrNoEmail, changing nothing, when u has no valid address.
func (s *Service) SendLinkEmail(ctx context.Context, u store.User, who audit.Who) (IssuedLink, error) {
	if !HasValidEmail(u) {
		return IssuedLink{}, ErrNoEmail
	}
	var issued IssuedLink
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if issued, err = s.IssueLinkTx(ctx, q, u, 0, who); err != nil {
			return err
		}
		return s.queueLinkEmailTx(ctx, q, u, issued.Link, issued.Token, 1, who)
	})
	return issued, err
}

// ResendLinkEmail sends pending link l of u again: the same link (its token
// is derived again from the stored salt) and the same expiry, to the user's
// current address, in one transaction. ErrNoEmail when u has no valid
// address.
func (s *Service) ResendLinkEmail(ctx context.Context, u store.User, l store.EnrollmentLink, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error { return s.resendTx(ctx, q, u, l, who) })
}

// resendBatch is how many pending enrollments one transaction of
// ResendAllPending covers, so that a large resend does not hold the write
// lock long.
const resendBatch = 200

// ResendAllPending sends every pending enrollment's link again, in
// transactions of resendBatch links. Users without a valid address are
// skipped and counted.
func (s *Service) ResendAllPending(ctx context.Context, who audit.Who) (sent, skipped int, err error) {
	var after int64
	for {
		batch, err := s.store.PendingEnrollments(ctx, s.clock.Now(), after, resendBatch)
		if err != nil {
			return sent, skipped, err
		}
		if len(batch) == 0 {
			break
		}
		var bs, bk int
		err = s.store.InTx(ctx, func(q store.Queries) error {
			bs, bk = 0, 0
			for _, p := range batch {
				switch err := s.resendTx(ctx, q, p.User, p.Link, who); {
				case errors.Is(err, ErrNoEmail):
					bk++
				case err != nil:
					return err
				default:
					bs++
				}
			}
			return nil
		})
		if err != nil {
			return sent, skipped, err
		}
		sent, skipped = sent+bs, skipped+bk
		after = batch[len(batch)-1].Link.ID
		if len(batch) < resendBatch {
			break
		}
	}
	return sent, skipped, nil
}

// DeletePendingLink ends u's pending enrollment (link l and any other
// pending one): the link stops working at once. The user stays.
func (s *Service) DeletePendingLink(ctx context.Context, u store.User, l store.EnrollmentLink, who audit.Who) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		n, err := q.RevokePendingLinks(ctx, u.ID, now)
		if err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentLinkDeleted, audit.TargetUser, u.Username,
			map[string]any{"link_id": l.ID, "links": n}))
	})
}

func (s *Service) resendTx(ctx context.Context, q store.Queries, u store.User, l store.EnrollmentLink, who audit.Who) error {
	if !HasValidEmail(u) {
		return ErrNoEmail
	}
	sent, err := q.CountMessagesWithIntentPrefix(ctx, fmt.Sprintf("enroll-link:%d:send:", l.ID))
	if err != nil {
		return err
	}
	return s.queueLinkEmailTx(ctx, q, u, l, s.LinkToken(l), sent+1, who)
}

// queueLinkEmailTx writes the n-th send of link l (whose token is token) to
// u's current address, marks the link sent and records it, all through q.
func (s *Service) queueLinkEmailTx(ctx context.Context, q store.Queries, u store.User, l store.EnrollmentLink, token string, n int, who audit.Who) error {
	now := s.clock.Now()
	org, err := notify.LoadOrg(ctx, q, s.orgName(ctx), "")
	if err != nil {
		return err
	}
	msg := notify.EnrollmentEmail(org, u, s.LinkURL(token), l.ExpiresAt, nil)
	msg.IntentKey = notify.EnrollLinkIntent(l.ID, n)
	if _, err := notify.Enqueue(ctx, q, msg, now); err != nil {
		return err
	}
	if err := q.MarkLinkSent(ctx, l.ID, now); err != nil {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentEmailQueued, audit.TargetUser, u.Username,
		map[string]any{"link_id": l.ID, "to": u.Email, "send": n}))
}
