package enroll

import (
	"context"
	"errors"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// MaxEmailedLinkTTL is the longest an enrollment link sent by the Admin
// API's enroll may stay valid. Duo reads valid_secs=0 as "never expires";
// links here always expire, so the caller is told to pick a duration.
const MaxEmailedLinkTTL = 365 * 24 * time.Hour

// ErrEmailMismatch is an enroll for an existing user under another email
// address than theirs: the portal sends enrollment emails only to the
// address on the user's record.
var ErrEmailMismatch = errors.New("that user exists with another email address; change the user's email first")

// EnrollByEmail is the Admin API's enroll: it creates the user when there
// is none (with email), issues a fresh enrollment link valid for ttl and
// queues its email through the outbox, as the bulk enrollment page does,
// with the audit records, in one transaction.
func (s *Service) EnrollByEmail(ctx context.Context, username, email string, ttl time.Duration, who audit.Who) (IssuedLink, error) {
	if ttl <= 0 || ttl > MaxEmailedLinkTTL {
		return IssuedLink{}, ErrInvalidTTL
	}
	nu, err := users.Prepare(users.NewUser{Username: username, Email: email}, s.clock.Now())
	if err != nil {
		return IssuedLink{}, err
	}
	if nu.Email == "" {
		return IssuedLink{}, ErrNoEmail
	}
	var issued IssuedLink
	err = s.store.InTx(ctx, func(q store.Queries) error {
		u, err := q.UserByUsername(ctx, nu.Username)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = nu
			if err := users.Insert(ctx, q, &u, who); err != nil {
				return err
			}
		case err != nil:
			return err
		case !strings.EqualFold(u.Email, nu.Email):
			return ErrEmailMismatch
		}
		if issued, err = s.IssueLinkTx(ctx, q, u, ttl, who); err != nil {
			return err
		}
		return s.queueLinkEmailTx(ctx, q, u, issued.Link, issued.Token, 1, who)
	})
	return issued, err
}
