package enroll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// ErrAlreadyEnrolled means an inline enrollment reached a user who has
// enrolled meanwhile: a new factor for them needs a real enrollment link.
var ErrAlreadyEnrolled = errors.New("enroll: user already enrolled")

// Subject is the person enrolling.
type Subject struct {
	// User is the user enrolling. For an inline enrollment of a user unknown
	// until now, User.ID is 0 and only Username and Key are set: the user is
	// created in the transaction that proves their first factor.
	User store.User
	// LinkID is the enrollment link they came through, ended in the same
	// transaction as the first factor it adds; zero for none.
	LinkID int64
	// Proved means this browser proved a factor of User within ProofTTL
	// (the device page, the proof step of a link, or a factor it just
	// added): with it, a user who has a factor may add another.
	Proved bool
	Who    audit.Who
}

// NewSubjectUser is the not-yet-stored user of an inline enrollment.
func NewSubjectUser(username string) store.User {
	return store.User{Username: users.Normalize(username), Key: newUserKey(), Status: store.StatusActive}
}

// Exists reports whether the subject's user is stored already.
func (s Subject) Exists() bool { return s.User.ID != 0 }

// claimChallenge ends a proved challenge and returns the user its factor
// belongs to, inside the transaction that stores the factor. Deleting first
// makes a concurrent second proof of the same challenge fail here instead of
// storing a second factor.
//
// The new-factor rule is checked here too, on what the transaction sees: a
// user who has a factor gets another only with sub's proof or a reset
// link (ErrProofRequired).
func claimChallenge(ctx context.Context, q store.Queries, sub Subject, c store.Challenge, now time.Time) (store.User, error) {
	if err := q.DeleteChallenge(ctx, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, ErrChallengeExpired
		}
		return store.User{}, err
	}
	owner, err := ownerOf(ctx, q, c, now, sub.Who)
	if err != nil || c.UserID == 0 {
		return owner, err
	}
	return owner, mayAdd(ctx, q, sub, owner, now)
}

// ownerOf loads the stored user a challenge belongs to, or creates the user
// an inline enrollment promised, inside the transaction that proves the
// factor. A user found by name who holds a factor by now is refused.
func ownerOf(ctx context.Context, q store.Queries, c store.Challenge, now time.Time, who audit.Who) (store.User, error) {
	if c.UserID != 0 {
		return q.UserByID(ctx, c.UserID)
	}
	u, err := q.UserByUsername(ctx, c.Username)
	if err == nil {
		// Inline enrollment adds no device to an account that holds any,
		// whether or not this application accepts it.
		f, err := policy.LoadFactors(ctx, q, u.ID)
		if err != nil {
			return u, err
		}
		if f.Any() {
			return u, ErrAlreadyEnrolled
		}
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	u = store.User{Key: c.UserKey, Username: c.Username, Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := users.Insert(ctx, q, &u, who); err != nil {
		return u, fmt.Errorf("enroll: create inline user: %w", err)
	}
	return u, nil
}

// currentUser reloads a stored subject's user, so status changes made since
// the page was opened (disabled, locked out) count.
func (s *Service) currentUser(ctx context.Context, sub Subject) (store.User, error) {
	if !sub.Exists() {
		return sub.User, nil
	}
	u, err := s.store.UserByID(ctx, sub.User.ID)
	if err != nil {
		return u, fmt.Errorf("enroll: load user: %w", err)
	}
	return u, nil
}
