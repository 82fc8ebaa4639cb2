package store

import (
	"context"
	"time"
)

// Hardware token types, as stored: HOTP or TOTP with 6 or 8 digits.
const (
	TokenHOTP6 = "h6"
	TokenHOTP8 = "h8"
	TokenTOTP6 = "t6"
	TokenTOTP8 = "t8"
)

// OATHToken is a hardware token with what checking its codes needs: the
// sealed secret, the counter (HOTP: last counter used; TOTP: last step
// used) and the TOTP step in seconds.
type OATHToken struct {
	ID        int64
	Key       string // public id, "DH..."
	Serial    string
	Type      string
	Secret    []byte // sealed
	Counter   int64
	Step      int
	UserID    int64 // 0 when not assigned
	Username  string
	CreatedAt time.Time
}

// ListedToken is a hardware token with its user (nil when it belongs to
// no one), as the Admin API answers it.
type ListedToken struct {
	OATHToken
	User *User
}

// TokenFilter selects hardware tokens in id order; empty strings do not
// filter.
type TokenFilter struct {
	Type, Serial  string
	Offset, Limit int
}

// TokenQueries reads and writes hardware tokens.
type TokenQueries interface {
	// CreateOATHToken inserts t and sets its ID. ErrConflict when a token of
	// that type and serial exists.
	CreateOATHToken(ctx context.Context, t *OATHToken) error
	// OATHTokens lists every token with its user's name, by serial.
	OATHTokens(ctx context.Context, limit int) ([]OATHToken, error)
	// OATHTokenBySerial finds a token by serial (the first, by id).
	OATHTokenBySerial(ctx context.Context, serial string) (OATHToken, error)
	// OATHTokensByUser lists the tokens assigned to the user.
	OATHTokensByUser(ctx context.Context, userID int64) ([]OATHToken, error)
	// AdvanceTokenCounter records that counter (or step) was used; false
	// when it, or a later one, was used already: a replay.
	AdvanceTokenCounter(ctx context.Context, id, counter int64) (bool, error)
	// SetTokenCounter sets the counter after a resync.
	SetTokenCounter(ctx context.Context, id, counter int64) error
	// TokenPage returns a page of the tokens f selects with their users,
	// and how many f selects in all.
	TokenPage(ctx context.Context, f TokenFilter) ([]ListedToken, int, error)
	// TokenByKey returns the token with the public id key and its user;
	// ErrNotFound when there is none.
	TokenByKey(ctx context.Context, key string) (ListedToken, error)
	// DeleteOATHToken removes a token; ErrNotFound when it is gone.
	DeleteOATHToken(ctx context.Context, id int64) error
	// UnassignOATHToken takes a token from its user; ErrNotFound when it is
	// gone.
	UnassignOATHToken(ctx context.Context, id int64) error
}
