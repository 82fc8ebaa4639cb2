package users

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// MaxUsernameLength is the longest username accepted.
const MaxUsernameLength = 100

// ErrInvalidUsername and the other errors below carry a sentence a person
// can act on; callers may show them as they are.
var (
	ErrInvalidUsername = errors.New("a username is 1 to 100 characters: letters, digits and . _ @ - + only")
	ErrInvalidEmail    = errors.New("that email address does not look right; it should look like name@example.com")
	ErrUsernameTaken   = errors.New("a user with that username already exists")
	ErrTooLong         = errors.New("a name or note is longer than 200 characters")
)

// Normalize returns the stored form of a username: trimmed and lowercase.
// Usernames are case-insensitive everywhere.
func Normalize(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// NormalizeSimple applies the "simple" normalization of applications: strip a
// DOMAIN\ prefix and an @domain suffix, then Normalize.
func NormalizeSimple(username string) string {
	u := strings.TrimSpace(username)
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return Normalize(u)
}

// ValidateUsername checks a normalized username.
func ValidateUsername(username string) error {
	if username == "" || utf8.RuneCountInString(username) > MaxUsernameLength {
		return ErrInvalidUsername
	}
	for _, r := range username {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._@-+", r) {
			continue
		}
		return ErrInvalidUsername
	}
	return nil
}

// ValidateEmail checks an optional email address: empty, or one plain address.
func ValidateEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 || !strings.Contains(email[strings.IndexByte(email, '@'):], ".") {
		return ErrInvalidEmail
	}
	return nil
}

// NewUser is what it takes to create a user.
type NewUser struct {
	Username string
	Email    string
	RealName string
}

// Store is what the users service uses of the database: transactions for
// every change, and groups by key to check a form before one.
type Store interface {
	store.Transactor
	store.GroupAdminQueries
}

// Service creates and changes users.
type Service struct {
	Store Store
	Clock clock.Clock
}

// Create validates and normalizes nu and creates the user with its audit
// record, in one transaction.
func (s *Service) Create(ctx context.Context, nu NewUser, who audit.Who) (store.User, error) {
	u, err := Prepare(nu, s.Clock.Now())
	if err != nil {
		return store.User{}, err
	}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		return Insert(ctx, q, &u, who)
	})
	return u, err
}

// Prepare validates nu and returns the user record to insert.
func Prepare(nu NewUser, now time.Time) (store.User, error) {
	u := store.User{
		Username:  Normalize(nu.Username),
		Email:     strings.TrimSpace(nu.Email),
		RealName:  strings.TrimSpace(nu.RealName),
		Status:    store.StatusActive,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := ValidateUsername(u.Username); err != nil {
		return u, err
	}
	if err := text.Check("real name", u.RealName); err != nil {
		return u, err
	}
	if err := ValidateEmail(u.Email); err != nil {
		return u, err
	}
	if utf8.RuneCountInString(u.RealName) > 200 {
		return u, ErrTooLong
	}
	return u, nil
}

// Insert writes a prepared user and its audit record with q, which should be
// a transaction's.
func Insert(ctx context.Context, q store.Queries, u *store.User, who audit.Who) error {
	if u.Key == "" {
		u.Key = secret.NewID("DU", 20)
	}
	if err := q.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrUsernameTaken
		}
		return fmt.Errorf("users: create: %w", err)
	}
	return q.InsertAudit(ctx, audit.Entry(u.CreatedAt, who, audit.UserCreated, audit.TargetUser, u.Username,
		map[string]any{"email": u.Email}))
}
