package enroll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// IssuedLink is a fresh enrollment link.
type IssuedLink struct {
	Link    store.EnrollmentLink
	User    store.User
	Token   string
	URL     string
	Revoked int64 // how many older pending links of the user stopped working
}

// IssueLink creates an enrollment link for username, valid for ttl (LinkTTL
// when zero). Any older pending link of that user stops working: a user has at
// most one pending enrollment.
func (s *Service) IssueLink(ctx context.Context, username string, ttl time.Duration, who audit.Who) (IssuedLink, error) {
	if ttl <= 0 {
		ttl = LinkTTL
	}
	now := s.clock.Now()
	var out IssuedLink
	err := s.store.InTx(ctx, func(q store.Queries) error {
		u, err := q.UserByUsername(ctx, users.Normalize(username))
		if errors.Is(err, store.ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		out, err = s.issueLinkTx(ctx, q, u, now, ttl, false, who)
		return err
	})
	return out, err
}

// IssueLinkTx is IssueLink for a user already loaded, inside the caller's
// transaction (bulk enrollment, directory sync).
func (s *Service) IssueLinkTx(ctx context.Context, q store.Queries, u store.User, ttl time.Duration, who audit.Who) (IssuedLink, error) {
	if ttl <= 0 {
		ttl = LinkTTL
	}
	return s.issueLinkTx(ctx, q, u, s.clock.Now(), ttl, false, who)
}

func (s *Service) issueLinkTx(ctx context.Context, q store.Queries, u store.User, now time.Time, ttl time.Duration, reset bool, who audit.Who) (IssuedLink, error) {
	revoked, err := q.RevokePendingLinks(ctx, u.ID, now)
	if err != nil {
		return IssuedLink{}, err
	}
	if revoked > 0 {
		if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentLinkRevoked, audit.TargetUser, u.Username,
			map[string]any{"links": revoked, "reason": "replaced by a new link"})); err != nil {
			return IssuedLink{}, err
		}
	}
	salt := secret.NewSalt()
	token := secret.DeriveToken(s.linkKey, salt)
	l := store.EnrollmentLink{
		UserID: u.ID, TokenHash: secret.HashToken(token), TokenSalt: salt,
		CreatedBy: who.Type + ":" + who.Name, CreatedAt: now, ExpiresAt: now.Add(ttl), Reset: reset,
	}
	if err := q.CreateEnrollmentLink(ctx, &l); err != nil {
		return IssuedLink{}, err
	}
	if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentLinkCreated, audit.TargetUser, u.Username,
		map[string]any{"link_id": l.ID, "expires_at": l.ExpiresAt.Unix()})); err != nil {
		return IssuedLink{}, err
	}
	return IssuedLink{Link: l, User: u, Token: token, URL: s.LinkURL(token), Revoked: revoked}, nil
}

// LinkURL is the address of the enrollment landing page for token.
func (s *Service) LinkURL(token string) string { return s.baseURL + "/enroll/" + token }

// LinkToken gives back the token of a stored link, so that "resend" sends the
// very same link.
func (s *Service) LinkToken(l store.EnrollmentLink) string {
	return secret.DeriveToken(s.linkKey, l.TokenSalt)
}

// LinkState tells why a link that exists is not usable, or nil when it is
// pending.
func LinkState(l store.EnrollmentLink, now time.Time) error {
	switch {
	case l.UsedAt != nil:
		return ErrLinkUsed
	case l.RevokedAt != nil:
		return ErrLinkRevoked
	case !now.Before(l.ExpiresAt):
		return ErrLinkExpired
	}
	return nil
}

// OpenLink finds the link of token and its user (identity and status
// fields; see store.EnrollmentLinkAndUser). A link that exists but is
// no longer pending is returned with the error that says why (ErrLinkUsed,
// ErrLinkRevoked, ErrLinkExpired), so that a caller holding a session for it
// can still let its user finish.
func (s *Service) OpenLink(ctx context.Context, token string) (store.EnrollmentLink, store.User, error) {
	if len(token) < 20 || len(token) > 100 {
		return store.EnrollmentLink{}, store.User{}, ErrLinkNotFound
	}
	l, u, err := s.store.EnrollmentLinkAndUser(ctx, secret.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return l, u, ErrLinkNotFound
	}
	if err != nil {
		return l, u, fmt.Errorf("enroll: open link: %w", err)
	}
	return l, u, LinkState(l, s.clock.Now())
}

// endLinkTx marks the link used when the user proves their first factor
// through it. A link already ended is fine: the user was finishing in the
// session that ended it.
func endLinkTx(ctx context.Context, q store.Queries, linkID int64, u store.User, now time.Time, who audit.Who) error {
	used, err := q.MarkLinkUsed(ctx, linkID, now)
	if err != nil || !used {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentLinkUsed, audit.TargetUser, u.Username,
		map[string]any{"link_id": linkID}))
}

// endEnrollmentTx ends what a proved factor makes pointless, whatever the
// route (link, inline sign-in, admin activation): the link that was used
// is marked used, and any other pending link of the user stops working, so
// that the pending list and "resend all" no longer count an enrolled user.
// linkID is 0 when no link was used.
func endEnrollmentTx(ctx context.Context, q store.Queries, linkID int64, u store.User, now time.Time, who audit.Who) error {
	if linkID != 0 {
		if err := endLinkTx(ctx, q, linkID, u, now, who); err != nil {
			return err
		}
	}
	revoked, err := q.RevokePendingLinks(ctx, u.ID, now)
	if err != nil || revoked == 0 {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentLinkRevoked, audit.TargetUser, u.Username,
		map[string]any{"links": revoked, "reason": "the user enrolled a device"}))
}
