package store

import (
	"context"
	"time"
)

// EnrollmentLink is a bearer link that lets one user enroll. Only the hash of
// its token is stored. It is pending while not used, revoked or expired.
type EnrollmentLink struct {
	ID        int64
	UserID    int64
	TokenHash []byte
	TokenSalt []byte // the token is re-derived from it with the server key
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	SentAt    *time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// Reset marks an admin-issued reset: the link may add a device to a
	// user who already has one without proof of it. Not read by
	// EnrollmentLinkAndUser.
	Reset bool
}

// EnrollmentLinkQueries reads and writes enrollment links.
type EnrollmentLinkQueries interface {
	CreateEnrollmentLink(ctx context.Context, l *EnrollmentLink) error
	EnrollmentLinkByHash(ctx context.Context, hash []byte) (EnrollmentLink, error)
	// EnrollmentLinkAndUser finds a link by its token's hash together with
	// its user, in one narrow read: the landing page's only query. The link
	// comes without its hash and salt; the user with its identity and status
	// (ID, Key, Username, RealName, Email, Status, FailedAttempts) only. A
	// store may answer the user from the cache that LoginSubjectByUsername
	// uses: FailedAttempts may then be older.
	EnrollmentLinkAndUser(ctx context.Context, hash []byte) (EnrollmentLink, User, error)
	EnrollmentLinkByID(ctx context.Context, id int64) (EnrollmentLink, error)
	// LatestEnrollmentLink is the user's newest link, whatever its state.
	LatestEnrollmentLink(ctx context.Context, userID int64) (EnrollmentLink, error)
	// RevokePendingLinks ends every pending link of the user and returns how
	// many there were.
	RevokePendingLinks(ctx context.Context, userID int64, at time.Time) (int64, error)
	// MarkLinkUsed ends a pending link because its user finished. It reports
	// false when the link was no longer pending.
	MarkLinkUsed(ctx context.Context, id int64, at time.Time) (bool, error)
}

// Challenge methods.
const (
	ChallengeMobile      = "mobile"
	ChallengeTablet      = "tablet"
	ChallengeSecurityKey = "security_key"
	ChallengeActivation  = "activation"
)

// Challenge is a factor being set up and not yet proved: a TOTP seed waiting
// for its first code, or a WebAuthn registration session. Its secret is
// sealed. It expires after a few minutes.
type Challenge struct {
	ID        int64
	Key       string // random handle kept in the browser session
	UserID    int64  // 0 while the user of an inline enrollment does not exist yet
	Username  string
	UserKey   string
	Method    string
	PhoneID   *int64 // the phone being activated, for activation links
	Number    string
	Platform  string
	Name      string
	Secret    []byte // sealed
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ChallengeQueries reads and writes pending factor set-ups.
type ChallengeQueries interface {
	CreateChallenge(ctx context.Context, c *Challenge) error
	ChallengeByKey(ctx context.Context, key string) (Challenge, error)
	// ChallengesOfUsername lists the stored challenges of a username, live or
	// expired but not yet swept, oldest first.
	ChallengesOfUsername(ctx context.Context, username string) ([]Challenge, error)
	// DeleteChallenge removes a challenge once used. ErrNotFound when it was
	// already gone (used by a concurrent request, or expired and swept).
	DeleteChallenge(ctx context.Context, id int64) error
	DeleteExpiredChallenges(ctx context.Context, before time.Time) (int64, error)
}
