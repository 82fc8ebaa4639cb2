package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when the asked-for record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a uniqueness rule (a
// username or alias taken, a credential already registered).
var ErrConflict = errors.New("store: conflict")

// Queries is every single-step read and write. The same methods run on the
// database directly or inside a transaction.
type Queries interface {
	UserQueries
	PhoneQueries
	SecurityKeyQueries
	EnrollmentLinkQueries
	ChallengeQueries
	GroupQueries
	ApplicationQueries
	PolicyQueries
	OutboxQueries
	OutboxWorkerQueries
	OutboxAdminQueries
	AuditQueries
	SettingQueries
	AdminQueries
	UserAdminQueries
	AuthTransactionQueries
	BulkQueries
	TemplateQueries
	ImportQueries
	ActivationQueries
	PromptQueries
	JobQueries
	InstanceQueries
}

// Store is the portal's database.
type Store interface {
	Queries
	// InTx runs fn in one transaction: committed when fn returns nil, rolled
	// back otherwise. fn must use only the Queries it is given.
	InTx(ctx context.Context, fn func(Queries) error) error
	// Ping tells whether the database answers and accepts writes (for
	// /readyz).
	Ping(ctx context.Context) error
	Close() error
}
