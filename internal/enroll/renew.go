package enroll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/org"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// RenewInterval is how often one user may ask for a fresh link.
const RenewInterval = time.Hour

// Errors of RenewExpiredLink.
var (
	ErrRenewUnavailable = errors.New("enroll: a fresh link cannot be sent for this link")
	ErrRenewTooSoon     = errors.New("enroll: a fresh link was sent recently")
)

// RenewAllowed tells whether users may ask for a fresh link at all.
func (s *Service) RenewAllowed(ctx context.Context) bool {
	// An unreadable setting leaves renewal on, as it is by default.
	on, _ := org.SelfRenew(ctx, s.store)
	return on
}

// CanRenew reports whether the user of an expired link may be offered a
// fresh one: renewal is on, the user is active and has an email address.
func (s *Service) CanRenew(ctx context.Context, l store.EnrollmentLink, u store.User) bool {
	return errors.Is(LinkState(l, s.clock.Now()), ErrLinkExpired) && u.Email != "" &&
		users.ValidateEmail(u.Email) == nil && (u.Status == store.StatusActive || u.Status == store.StatusBypass) &&
		s.RenewAllowed(ctx)
}

// RenewExpiredLink gives the user of an expired link a fresh one. send is
// called inside the transaction that creates the link, to write its email
// to the outbox, so the link and its message are one change. At most one
// fresh link per user per RenewInterval.
func (s *Service) RenewExpiredLink(ctx context.Context, token string, who audit.Who, send func(q store.Queries, l IssuedLink) error) (IssuedLink, error) {
	now := s.clock.Now()
	var out IssuedLink
	err := s.store.InTx(ctx, func(q store.Queries) error {
		old, err := q.EnrollmentLinkByHash(ctx, secret.HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return ErrLinkNotFound
		}
		if err != nil {
			return err
		}
		u, err := q.UserByID(ctx, old.UserID)
		if err != nil {
			return err
		}
		if !s.CanRenew(ctx, old, u) {
			return ErrRenewUnavailable
		}
		latest, err := q.LatestEnrollmentLink(ctx, u.ID)
		if err != nil {
			return err
		}
		if now.Sub(latest.CreatedAt) < RenewInterval {
			return ErrRenewTooSoon
		}
		who.Name = u.Username
		// A renewed link never carries a reset: the reset ends with its link.
		if out, err = s.issueLinkTx(ctx, q, u, now, LinkTTL, false, who); err != nil {
			return err
		}
		return send(q, out)
	})
	if err != nil && !errors.Is(err, ErrLinkNotFound) && !errors.Is(err, ErrRenewUnavailable) && !errors.Is(err, ErrRenewTooSoon) {
		return out, fmt.Errorf("enroll: renew link: %w", err)
	}
	return out, err
}
