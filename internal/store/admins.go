package store

import (
	"context"
	"time"
)

// Admin is an account of the admin section. It never signs in to protected
// applications. Its TOTP secret is sealed.
type Admin struct {
	ID           int64
	Key          string // public id, "DE..."
	Email        string // lowercase
	Name         string
	Role         string
	PasswordHash string // argon2id PHC string
	TOTPSecret   []byte // sealed; nil until the admin sets up a second factor
	TOTPLastStep int64
	// FailedAttempts counts the recent wrong passwords and codes; the
	// count restarts once LastFailedAt is old enough to be forgotten.
	FailedAttempts int
	LastFailedAt   *time.Time
	// SlowUntil is when the next try from an address that failed recently
	// may be checked.
	SlowUntil *time.Time
	// SessionGen is copied into each session at sign-in; a session with an
	// older one has been ended.
	SessionGen int64
	// DisabledAt is set while an owner has locked the admin out.
	DisabledAt  *time.Time
	CreatedAt   time.Time
	LastLoginAt *time.Time
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
	// CountAdminsWithRole counts the admins with role that are not
	// disabled, the ones who can still act in it.
	CountAdminsWithRole(ctx context.Context, role string) (int, error)
	SetAdminRole(ctx context.Context, id int64, role string) error
	// SetAdminDisabled locks the admin out of sign-in from at, or lets them
	// in again when at is nil.
	SetAdminDisabled(ctx context.Context, id int64, at *time.Time) error
	// EndAdminSessions raises the admin's session generation, so that every
	// session issued before no longer counts.
	EndAdminSessions(ctx context.Context, id int64) error
	DeleteAdmin(ctx context.Context, id int64) error
	// SetAdminPassword replaces the admin's password hash.
	SetAdminPassword(ctx context.Context, id int64, hash string) error
	// SetAdminTOTP stores a proved TOTP secret and the step of the code that
	// proved it, only while the admin has none: ErrConflict when another
	// set-up got there first.
	SetAdminTOTP(ctx context.Context, id int64, sealedSecret []byte, step int64) error
	// AdvanceAdminTOTPStep records step as used. It reports false when step
	// is not newer than the last one used (a replay, or a concurrent use).
	AdvanceAdminTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
	// RecordAdminFailure counts a wrong password or code from ip at time at
	// and returns the count of recent failures: failures at or before
	// forgetBefore are forgotten (the count starts over, and addresses that
	// last failed then are dropped).
	RecordAdminFailure(ctx context.Context, id int64, ip string, at, forgetBefore time.Time) (int, error)
	// SlowAdmin moves the admin's SlowUntil to until, unless it is later
	// already.
	SlowAdmin(ctx context.Context, id int64, until time.Time) error
	// AdminAddressFailedSince reports whether ip failed to sign in to the
	// admin after since.
	AdminAddressFailedSince(ctx context.Context, id int64, ip string, since time.Time) (bool, error)
	// RecordAdminSignIn notes the time of a sign-in and forgets the failures
	// of the address it came from.
	RecordAdminSignIn(ctx context.Context, id int64, ip string, at time.Time) error

	CreateAdminSetupLink(ctx context.Context, l *AdminSetupLink) error
	AdminSetupLinkByHash(ctx context.Context, hash []byte) (AdminSetupLink, error)
	// UseAdminSetupLink marks a link used; false when it was used already or
	// has expired.
	UseAdminSetupLink(ctx context.Context, id int64, at time.Time) (bool, error)
	// EndAdminSetupLinks makes every pending setup link expire at at.
	EndAdminSetupLinks(ctx context.Context, at time.Time) error
}
