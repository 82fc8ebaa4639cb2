package store

import (
	"context"
	"time"
)

// BypassCode is a passcode an admin issued to a user (or the user made for
// themselves as recovery codes) that works UsesLeft more times until
// ExpiresAt (nil: never). Only a keyed hash of the code is stored.
type BypassCode struct {
	ID        int64
	Key       string // public id, "DB..."
	UserID    int64
	CodeHash  []byte
	UsesLeft  int
	CreatedBy string // "admin:EMAIL" or "user:USERNAME"
	CreatedAt time.Time
	ExpiresAt *time.Time
}

// Live reports whether the code still works at now.
func (b BypassCode) Live(now time.Time) bool {
	return b.UsesLeft > 0 && (b.ExpiresAt == nil || now.Before(*b.ExpiresAt))
}

// ListedBypassCode is a bypass code with its user, as the Admin API lists
// it.
type ListedBypassCode struct {
	BypassCode
	User User
}

// BypassCodeFilter selects the codes that work at Now, of one user (UserID,
// 0 for every user), in id order.
type BypassCodeFilter struct {
	UserID        int64
	Now           time.Time
	Offset, Limit int
}

// BypassCodeQueries list and remove single bypass codes by their public id.
type BypassCodeQueries interface {
	// LiveBypassCodes returns a page of the codes f selects with their
	// users, and how many f selects in all.
	LiveBypassCodes(ctx context.Context, f BypassCodeFilter) ([]ListedBypassCode, int, error)
	// BypassCodeByKey returns the code with the public id key, live or
	// not, with its user; ErrNotFound when there is none.
	BypassCodeByKey(ctx context.Context, key string) (ListedBypassCode, error)
	// DeleteBypassCode removes one code; ErrNotFound when it is gone.
	DeleteBypassCode(ctx context.Context, id int64) error
}

// FactorQueries reads and writes what decides whether a user has a factor,
// and the passcodes that are not devices (bypass codes).
type FactorQueries interface {
	// HasFactor reports whether the user has at least one factor they can
	// sign in with: an activated phone or tablet, a security key or a hardware token.
	HasFactor(ctx context.Context, userID int64) (bool, error)
	// CreateBypassCode inserts b and sets its ID.
	CreateBypassCode(ctx context.Context, b *BypassCode) error
	// BypassCodesByUser lists the user's codes, live or not, oldest first.
	BypassCodesByUser(ctx context.Context, userID int64) ([]BypassCode, error)
	// SpendBypassCode uses the live code of the user with hash once, and
	// removes it when no use is left. It reports false when there was no
	// such live code (spent a moment ago by a concurrent login).
	SpendBypassCode(ctx context.Context, userID int64, hash []byte, now time.Time) (bool, error)
	// DeleteBypassCodes removes every code of the user; createdByPrefix,
	// when not empty, limits it to codes whose CreatedBy starts with it.
	DeleteBypassCodes(ctx context.Context, userID int64, createdByPrefix string) (int64, error)
	// SetPhoneName renames a phone.
	SetPhoneName(ctx context.Context, phoneID int64, name string) error
	// SetSecurityKeyName renames a security key of the user.
	SetSecurityKeyName(ctx context.Context, userID, keyID int64, name string) error
	// DeleteSecurityKey removes a security key of the user.
	DeleteSecurityKey(ctx context.Context, userID, keyID int64) error
	// HasLiveResetLink reports whether the user holds a pending
	// admin-issued reset link at now.
	HasLiveResetLink(ctx context.Context, userID int64, now time.Time) (bool, error)
}
