package enroll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// ErrKeyNotAccepted means a security-key sign-in did not prove one of the
// user's keys: a wrong or unknown key, a replayed or cloned one, a
// malformed answer, or an expired check.
var ErrKeyNotAccepted = errors.New("enroll: security key not accepted")

// BeginKeyLogin starts a security-key check for u at sign-in: it returns the
// options for navigator.credentials.get (JSON) and the login session, sealed,
// for the caller to keep server-side until FinishKeyLogin. Sign-in lives
// here, beside registration, because both use the same relying party and
// the same view of the user's keys.
func (s *Service) BeginKeyLogin(ctx context.Context, u store.User, bindTo string) (optionsJSON, sealedSession []byte, err error) {
	keys, err := s.store.SecurityKeysByUser(ctx, u.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: begin key login: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil, ErrKeyNotAccepted
	}
	assertion, session, err := s.webauthn.BeginLogin(webauthnUser{u: u, keys: keys},
		webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: begin key login: %w", err)
	}
	sessionJSON, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: begin key login: %w", err)
	}
	optionsJSON, err = json.Marshal(assertion)
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: begin key login: %w", err)
	}
	return optionsJSON, s.box.Seal(sessionJSON, keyLoginAAD(bindTo)), nil
}

func keyLoginAAD(bindTo string) []byte { return []byte("key-login:" + bindTo) }

// FinishKeyLogin checks the browser's assertion (body is the JSON of the
// PublicKeyCredential) against the sealed session from BeginKeyLogin with
// the same bindTo, and records the key's new sign count. A sign count that
// went backwards (a cloned key) is refused.
func (s *Service) FinishKeyLogin(ctx context.Context, u store.User, sealedSession []byte, bindTo string, body io.Reader, who audit.Who) (store.SecurityKey, error) {
	plain, err := s.box.Open(sealedSession, keyLoginAAD(bindTo))
	if err != nil {
		return store.SecurityKey{}, ErrKeyNotAccepted
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(plain, &session); err != nil {
		return store.SecurityKey{}, fmt.Errorf("enroll: finish key login: %w", err)
	}
	keys, err := s.store.SecurityKeysByUser(ctx, u.ID)
	if err != nil {
		return store.SecurityKey{}, fmt.Errorf("enroll: finish key login: %w", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(io.LimitReader(body, 64<<10))
	if err != nil {
		s.auditKeyLoginFailure(ctx, u, who, err)
		return store.SecurityKey{}, ErrKeyNotAccepted
	}
	cred, err := s.webauthn.ValidateLogin(webauthnUser{u: u, keys: keys}, session, parsed)
	if err != nil {
		s.auditKeyLoginFailure(ctx, u, who, err)
		return store.SecurityKey{}, ErrKeyNotAccepted
	}
	if cred.Authenticator.CloneWarning {
		s.auditKeyLoginFailure(ctx, u, who, errors.New("sign count went backwards: possible cloned key"))
		return store.SecurityKey{}, ErrKeyNotAccepted
	}
	for _, k := range keys {
		if string(k.CredentialID) == string(cred.ID) {
			if err := s.store.RecordSecurityKeyUse(ctx, k.ID, cred.Authenticator.SignCount, s.clock.Now()); err != nil {
				return store.SecurityKey{}, fmt.Errorf("enroll: finish key login: %w", err)
			}
			k.SignCount = cred.Authenticator.SignCount
			return k, nil
		}
	}
	return store.SecurityKey{}, ErrKeyNotAccepted
}

func (s *Service) auditKeyLoginFailure(ctx context.Context, u store.User, who audit.Who, cause error) {
	reason := cause.Error()
	var pe *protocol.Error
	if errors.As(cause, &pe) {
		reason = pe.Type + ": " + pe.Details
	}
	_ = s.store.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, audit.SecurityKeyLoginFail, audit.TargetUser, u.Username,
		map[string]any{"reason": reason}))
}
