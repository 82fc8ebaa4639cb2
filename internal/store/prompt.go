package store

import (
	"context"
	"time"
)

// PromptTransaction is a Universal Prompt login in progress: what the
// application asked for, what policy decided, and how the user proved
// themselves. Only the hash of the token in the prompt's URLs is stored.
type PromptTransaction struct {
	ID            int64
	TokenHash     []byte
	TxID          string // public id, shown to the application in auth_context.txid
	ApplicationID int64
	Username      string // as the application sent it (duo_uname), normalized
	RedirectURI   string
	State         string
	Nonce         string
	UseDuoCode    bool
	ClientIP      string
	// Claimed is set when the first browser opens the prompt; from then on
	// only that browser's session may use it.
	Claimed bool
	UserID  *int64
	// Decision is the policy's answer (auth, allow, deny, enroll); empty
	// until evaluated.
	Decision      string
	Reason        string
	Message       string
	EnrollMethods []string
	AuthMethods   []string
	// Outcome is the finished result (JSON), empty while the user is not done.
	Outcome string
	// KeySession is the sealed WebAuthn login session of a security-key
	// check in progress.
	KeySession []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// OAuthCode is an authorization code: single-use, short-lived, bound to the
// application and the redirect URI. Only its hash is stored.
type OAuthCode struct {
	ID            int64
	CodeHash      []byte
	ApplicationID int64
	RedirectURI   string
	Username      string
	Nonce         string
	Result        string // allow or deny
	Outcome       string // JSON of what the id_token says
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// PromptQueries reads and writes prompt transactions, authorization codes
// and the client assertions already seen.
type PromptQueries interface {
	CreatePromptTransaction(ctx context.Context, t *PromptTransaction) error
	PromptTransactionByHash(ctx context.Context, hash []byte) (PromptTransaction, error)
	// ClaimPromptTransaction marks a transaction claimed; it reports false
	// when another browser claimed it first.
	ClaimPromptTransaction(ctx context.Context, id int64) (bool, error)
	// UpdatePromptTransaction stores the decision, user, outcome and key
	// session of t. A login's outcome, once stored, never changes:
	// ErrConflict when the transaction already has one, ErrNotFound when it
	// is gone.
	UpdatePromptTransaction(ctx context.Context, t PromptTransaction) error
	// DeletePromptTransaction removes a finished transaction. ErrNotFound
	// when it was already gone.
	DeletePromptTransaction(ctx context.Context, id int64) error
	CreateOAuthCode(ctx context.Context, c *OAuthCode) error
	OAuthCodeByHash(ctx context.Context, hash []byte) (OAuthCode, error)
	// UseOAuthCode marks a code used; it reports false when it already was.
	UseOAuthCode(ctx context.Context, id int64, at time.Time) (bool, error)
	// RecordAssertion remembers a client assertion's jti until expires.
	// ErrConflict when the application already sent that jti.
	RecordAssertion(ctx context.Context, applicationID int64, jti string, expires time.Time) error
	// DeleteExpiredPromptData removes transactions, codes and assertion
	// records that expired before the given time.
	DeleteExpiredPromptData(ctx context.Context, before time.Time) (int64, error)
}
