package store

import (
	"context"
	"time"
)

// AuthTransaction is the outcome of an asynchronous Auth API (or REST v1)
// authentication, which the client fetches by txid.
type AuthTransaction struct {
	ID            int64
	TxID          string
	ApplicationID int64
	UserID        *int64
	Result        string // allow, deny (waiting is never stored: passcodes decide at once)
	Status        string
	StatusMsg     string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// AuthTransactionQueries reads and writes auth transactions.
type AuthTransactionQueries interface {
	// CreateAuthTransaction inserts t and sets its ID.
	CreateAuthTransaction(ctx context.Context, t *AuthTransaction) error
	// AuthTransactionByTxID finds a transaction of one application.
	AuthTransactionByTxID(ctx context.Context, applicationID int64, txid string) (AuthTransaction, error)
	// DeleteExpiredAuthTransactions removes transactions that expired before now.
	DeleteExpiredAuthTransactions(ctx context.Context, now time.Time) (int64, error)
}
