package store

import (
	"context"
	"time"
)

// SecurityKey is a WebAuthn credential: a roaming security key or a platform
// passkey.
type SecurityKey struct {
	ID              int64
	Key             string // public id, "DW..."
	UserID          int64
	CredentialID    []byte
	PublicKey       []byte
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	Transports      []string
	BackupEligible  bool
	BackupState     bool
	Name            string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
}

// SecurityKeyQueries reads and writes WebAuthn credentials.
type SecurityKeyQueries interface {
	// CreateSecurityKey inserts k and sets its ID. ErrConflict when the
	// credential id is already registered.
	CreateSecurityKey(ctx context.Context, k *SecurityKey) error
	SecurityKeysByUser(ctx context.Context, userID int64) ([]SecurityKey, error)
	// RecordSecurityKeyUse stores the authenticator's new sign count.
	RecordSecurityKeyUse(ctx context.Context, id int64, signCount uint32, at time.Time) error
}
