package store

import (
	"context"
	"time"
)

// Admin is an account of the admin section. It never signs in to protected
// applications. Its TOTP secret is sealed.
type Admin struct {
	ID             int64
	Key            string // public id, "DE..."
	Email          string // lowercase
	Name           string
	Role           string
	PasswordHash   string // argon2id PHC string
	TOTPSecret     []byte // sealed; nil until the admin sets up a second factor
	TOTPLastStep   int64
	FailedAttempts int
	LockedUntil    *time.Time
	CreatedAt      time.Time
	LastLoginAt    *time.Time
}

// AdminSetupLink is a one-time link that creates an admin (the owner, at
// first start). Only the hash of its token is stored.
type AdminSetupLink struct {
	ID        int64
	TokenHash []byte
	Role      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// AdminQueries reads and writes admins and their setup links.
type AdminQueries interface {
	// CreateAdmin inserts a and sets its ID. ErrConflict when the email is taken.
	CreateAdmin(ctx context.Context, a *Admin) error
	AdminByID(ctx context.Context, id int64) (Admin, error)
	AdminByKey(ctx context.Context, key string) (Admin, error)
	AdminByEmail(ctx context.Context, email string) (Admin, error)
	// Admins lists every admin by email.
	Admins(ctx context.Context) ([]Admin, error)
	CountAdmins(ctx context.Context) (int, error)
	CountAdminsWithRole(ctx context.Context, role string) (int, error)
	SetAdminRole(ctx context.Context, id int64, role string) error
	DeleteAdmin(ctx context.Context, id int64) error
	// SetAdminTOTP stores a proved TOTP secret and the step of the code that
	// proved it.
	SetAdminTOTP(ctx context.Context, id int64, sealedSecret []byte, step int64) error
	// AdvanceAdminTOTPStep records step as used. It reports false when step
	// is not newer than the last one used (a replay, or a concurrent use).
	AdvanceAdminTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
	// RecordAdminFailure counts a failed sign-in step. When the count reaches
	// max, the account is locked until at+lockFor and the count starts over.
	// It reports whether the account is now locked.
	RecordAdminFailure(ctx context.Context, id int64, max int, lockFor time.Duration, at time.Time) (bool, error)
	// RecordAdminSignIn clears failures and notes the time of a sign-in.
	RecordAdminSignIn(ctx context.Context, id int64, at time.Time) error

	CreateAdminSetupLink(ctx context.Context, l *AdminSetupLink) error
	AdminSetupLinkByHash(ctx context.Context, hash []byte) (AdminSetupLink, error)
	// UseAdminSetupLink marks a link used; false when it was used already or
	// has expired.
	UseAdminSetupLink(ctx context.Context, id int64, at time.Time) (bool, error)
}
