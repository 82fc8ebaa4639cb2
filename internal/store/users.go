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

// LoginSubject is a user with what a login decision reads of them, loaded
// together because every login reads it (see LoginSubjectByUsername).
type LoginSubject struct {
	User     User
	GroupIDs []int64
	Phones   []Phone // ordered by id
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
	// LoginSubjectByUsername loads in one statement what deciding a login
	// reads of a user first: the user, the ids of their groups and their
	// phones. ErrNotFound when there is no such user. A store may answer it
	// from a cache that forgets a user at any change to their login inputs
	// (this process's at once, another process's within a second); the
	// counters that every attempt changes (the user's FailedAttempts,
	// UpdatedAt and LastLoginAt, a phone's LastTOTPStep and
	// SMSPasscodesSent) may then be older: whatever checks a code reads
	// them from the database.
	LoginSubjectByUsername(ctx context.Context, username string) (LoginSubject, error)
	// ReserveUserAttempt counts one attempt at a code before the code is
	// looked at, in one conditional update: it refuses (ok false) once max
	// attempts are counted or the user is locked out. n is the count with
	// this attempt. ErrNotFound when there is no such user.
	ReserveUserAttempt(ctx context.Context, id int64, max int) (n int, ok bool, err error)
	// FailUserAttempt settles a reserved attempt as a wrong code: an active
	// user whose count has reached max is locked out. It returns the count,
	// the status, and whether this call locked the user out.
	FailUserAttempt(ctx context.Context, id int64, max int, at time.Time) (failures int, status string, lockedNow bool, err error)
	// PassUserAttempt settles a reserved attempt as a right code: the count
	// goes back to zero, unless the user was locked out meanwhile (false).
	PassUserAttempt(ctx context.Context, id int64) (cleared bool, err error)
	// ReturnUserAttempt gives back a reserved attempt whose code could not
	// be checked.
	ReturnUserAttempt(ctx context.Context, id int64) error
	// SetUserStatus writes a user's status, and sets the count of failed
	// attempts to zero when resetFailures (the rule of when is
	// users.ResetsFailures).
	SetUserStatus(ctx context.Context, id int64, status string, resetFailures bool, at time.Time) error
	CountUsers(ctx context.Context) (int, error)
}
