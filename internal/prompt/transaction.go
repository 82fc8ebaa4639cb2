package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Decisions of the policy, as the transaction records them.
const (
	DecisionAuth   = "auth"
	DecisionAllow  = "allow"
	DecisionDeny   = "deny"
	DecisionEnroll = "enroll"
)

// Factors named in auth_context.factor.
const (
	FactorPasscode     = "duo_mobile_passcode"
	FactorSecurityKey  = "webauthn_security_key"
	FactorNotAvailable = "not_available"
)

// Transaction is a login in progress, with its application.
type Transaction struct {
	store.PromptTransaction
	App store.Application
}

// Decided reports whether policy was already evaluated.
func (t Transaction) Decided() bool { return t.Decision != "" }

// Finished reports whether the outcome is known and only the return to the
// application is left.
func (t Transaction) Finished() bool { return t.Outcome != "" }

// Begin records a verified authorize request as a new transaction and
// returns the bearer token of the prompt's URLs. ip is the browser's address.
func (s *Service) Begin(ctx context.Context, r AuthRequest, ip string) (string, error) {
	now := s.now()
	token := secret.NewToken()
	t := store.PromptTransaction{
		TokenHash: secret.HashToken(token), TxID: secret.NewID("", 36), ApplicationID: r.App.ID,
		Username: r.Username, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce, UseDuoCode: r.UseDuoCode,
		ClientIP: ip, CreatedAt: now, ExpiresAt: now.Add(TransactionTTL),
	}
	if err := s.store.CreatePromptTransaction(ctx, &t); err != nil {
		return "", fmt.Errorf("prompt: begin: %w", err)
	}
	return token, nil
}

// Open loads the live transaction of token.
func (s *Service) Open(ctx context.Context, token string) (Transaction, error) {
	if len(token) < 20 || len(token) > 100 {
		return Transaction{}, ErrTransactionNotFound
	}
	t, err := s.store.PromptTransactionByHash(ctx, secret.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Transaction{}, ErrTransactionNotFound
	}
	if err != nil {
		return Transaction{}, fmt.Errorf("prompt: open: %w", err)
	}
	if !s.clock.Now().Before(t.ExpiresAt) {
		return Transaction{}, ErrTransactionNotFound
	}
	a, err := s.store.ApplicationByID(ctx, t.ApplicationID)
	if err != nil {
		return Transaction{}, fmt.Errorf("prompt: open: %w", err)
	}
	return Transaction{PromptTransaction: t, App: a}, nil
}

// Claim binds the transaction to the first browser that opens it; it
// reports false when another browser already did.
func (s *Service) Claim(ctx context.Context, t Transaction) (bool, error) {
	return s.store.ClaimPromptTransaction(ctx, t.ID)
}

// Decision is what policy said about the login.
type Decision struct {
	Result        string // DecisionAuth, DecisionAllow, DecisionDeny, DecisionEnroll
	Reason        string
	Message       string
	User          *store.User
	EnrollMethods []string
	AuthMethods   []string
}

// Decide records the policy's decision. An allow or a deny is final at once;
// auth and enroll wait for the person.
func (s *Service) Decide(ctx context.Context, t *Transaction, d Decision) error {
	t.Decision, t.Reason, t.Message = d.Result, d.Reason, d.Message
	t.EnrollMethods, t.AuthMethods = d.EnrollMethods, d.AuthMethods
	if d.User != nil {
		t.UserID = &d.User.ID
	}
	var err error
	switch d.Result {
	case DecisionAllow:
		t.Outcome, err = s.outcome(ctx, *t, d.User, ResultAllow, FactorNotAvailable, d.Reason, d.Message)
	case DecisionDeny:
		t.Outcome, err = s.outcome(ctx, *t, d.User, ResultDeny, FactorNotAvailable, d.Reason, d.Message)
	case DecisionAuth, DecisionEnroll:
	default:
		return fmt.Errorf("prompt: unknown decision %q", d.Result)
	}
	if err != nil {
		return err
	}
	return s.update(ctx, t)
}

// Enrolled turns a login that had to enroll into an ordinary one, for u,
// who now has a device to prove.
func (s *Service) Enrolled(ctx context.Context, t *Transaction, u store.User) error {
	t.Decision, t.UserID = DecisionAuth, &u.ID
	return s.update(ctx, t)
}

// Succeed records that u proved factor.
func (s *Service) Succeed(ctx context.Context, t *Transaction, u store.User, factor, reason string) error {
	t.UserID = &u.ID
	t.KeySession = nil
	var err error
	if t.Outcome, err = s.outcome(ctx, *t, &u, ResultAllow, factor, reason, ""); err != nil {
		return err
	}
	return s.update(ctx, t)
}

// Fail ends the login with a denial (a user locked out mid-way).
func (s *Service) Fail(ctx context.Context, t *Transaction, u *store.User, factor, reason, message string) error {
	t.KeySession = nil
	t.Message = message
	var err error
	if t.Outcome, err = s.outcome(ctx, *t, u, ResultDeny, factor, reason, message); err != nil {
		return err
	}
	return s.update(ctx, t)
}

// SetKeySession keeps the sealed WebAuthn login session of a security-key
// check in progress.
func (s *Service) SetKeySession(ctx context.Context, t *Transaction, sealed []byte) error {
	t.KeySession = sealed
	return s.update(ctx, t)
}

// update saves t, and audits the login's end when t now has an outcome.
// The write shares its commit with the other logins of the moment.
func (s *Service) update(ctx context.Context, t *Transaction) error {
	err := s.store.InGroupTx(ctx, func(q store.Queries) error {
		if err := q.UpdatePromptTransaction(ctx, t.PromptTransaction); err != nil {
			return err
		}
		if t.Outcome == "" {
			return nil
		}
		// The login's end is audited with the change that records it.
		var o Outcome
		if err := json.Unmarshal([]byte(t.Outcome), &o); err != nil {
			return err
		}
		action := audit.PromptLoginAllowed
		if o.Result != ResultAllow {
			action = audit.PromptLoginDenied
		}
		who := audit.Who{Type: audit.ActorUser, Name: o.userName(), IP: t.ClientIP}
		e := audit.Entry(s.clock.Now(), who, action, audit.TargetUser, o.userName(),
			map[string]any{"application": t.App.Name, "factor": o.Factor, "reason": o.Reason, "txid": t.TxID})
		if o.Factor == FactorNotAvailable {
			// A decision of policy, not a proof: a script looping on
			// the prompt leaves one record per window, with a count.
			e.RepeatKey = audit.RepeatKey(action, o.Reason, t.App.Key, o.userName())
		}
		return audit.RecordLogin(ctx, q, e)
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrTransactionNotFound
		}
		if errors.Is(err, store.ErrConflict) {
			// A concurrent request (another guess, the lockout) ended the
			// login first: its outcome stands, and is audited once.
			return nil
		}
		return fmt.Errorf("prompt: update: %w", err)
	}
	return nil
}

// Return ends a finished transaction: it issues the authorization code and
// gives the address to send the browser to (the registered redirect URI
// with the code and the state). The transaction is deleted in the same
// database transaction, so a second Return finds nothing.
func (s *Service) Return(ctx context.Context, t Transaction) (string, error) {
	if !t.Finished() {
		return "", ErrNotFinished
	}
	var o Outcome
	if err := json.Unmarshal([]byte(t.Outcome), &o); err != nil {
		return "", fmt.Errorf("prompt: outcome: %w", err)
	}
	now := s.now()
	code := secret.NewToken()
	c := store.OAuthCode{
		CodeHash: secret.HashToken(code), ApplicationID: t.ApplicationID, RedirectURI: t.RedirectURI,
		Username: t.Username, Nonce: t.Nonce, Result: o.Result, Outcome: t.Outcome,
		CreatedAt: now, ExpiresAt: now.Add(CodeTTL),
	}
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeletePromptTransaction(ctx, t.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrTransactionNotFound
			}
			return err
		}
		return q.CreateOAuthCode(ctx, &c)
	})
	if err != nil {
		if errors.Is(err, ErrTransactionNotFound) {
			return "", err
		}
		return "", fmt.Errorf("prompt: return: %w", err)
	}
	return ReturnURL(t.RedirectURI, t.UseDuoCode, code, t.State)
}

// ReturnURL adds the code and the state to a registered redirect URI,
// keeping any query it already has.
func ReturnURL(redirectURI string, useDuoCode bool, code, state string) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "", fmt.Errorf("prompt: redirect uri: %w", err)
	}
	q := u.Query()
	name := "code"
	if useDuoCode {
		name = "duo_code"
	}
	q.Set(name, code)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
