package store

import (
	"context"
	"time"
)

// User statuses, as the SPEC names them.
const (
	StatusActive    = "active"
	StatusBypass    = "bypass"
	StatusDisabled  = "disabled"
	StatusLockedOut = "locked_out"
)

// User is an end user, who enrolls factors and signs in to applications.
type User struct {
	ID             int64
	Key            string // public id, "DU..."
	Username       string // always lowercase
	RealName       string
	FirstName      string
	LastName       string
	Email          string
	Notes          string
	Status         string
	FailedAttempts int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastLoginAt    *time.Time
}

// UserQueries reads and writes users.
type UserQueries interface {
	// CreateUser inserts u and sets its ID. ErrConflict when the username is
	// taken.
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (User, error)
	UserByKey(ctx context.Context, key string) (User, error)
	// UserByUsername finds a user by exact (already normalized) username.
	UserByUsername(ctx context.Context, username string) (User, error)
	// RecordUserFailure counts one failed passcode and locks an active user
	// out when the count reaches max. It returns the new count and status.
	RecordUserFailure(ctx context.Context, id int64, max int, at time.Time) (failures int, status string, err error)
	// ResetUserFailures clears the failure count after a correct passcode.
	ResetUserFailures(ctx context.Context, id int64) error
	SetUserStatus(ctx context.Context, id int64, status string, at time.Time) error
	CountUsers(ctx context.Context) (int, error)
}
