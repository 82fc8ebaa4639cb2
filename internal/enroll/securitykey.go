package enroll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// MaxKeyNameLength bounds a security key's name.
const MaxKeyNameLength = 60

// DefaultKeyName is offered when the user does not name their key.
const DefaultKeyName = "Security key"

// ErrInvalidKeyName means the name is too long or has control characters.
var ErrInvalidKeyName = errors.New("enroll: invalid security key name")

// ErrKeyRejected means the browser's answer did not prove a new credential
// (wrong origin, wrong challenge, a key already registered, a malformed
// response).
var ErrKeyRejected = errors.New("enroll: security key registration rejected")

// webauthnUser adapts a user and their keys to go-webauthn.
type webauthnUser struct {
	u    store.User
	keys []store.SecurityKey
}

func (w webauthnUser) WebAuthnID() []byte          { return []byte(w.u.Key) }
func (w webauthnUser) WebAuthnName() string        { return w.u.Username }
func (w webauthnUser) WebAuthnDisplayName() string { return displayName(w.u) }
func (w webauthnUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(w.keys))
	for _, k := range w.keys {
		c := webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.AttestationType}
		c.Authenticator.AAGUID = k.AAGUID
		c.Authenticator.SignCount = k.SignCount
		c.Flags.BackupEligible, c.Flags.BackupState = k.BackupEligible, k.BackupState
		for _, t := range k.Transports {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
		out = append(out, c)
	}
	return out
}

func displayName(u store.User) string {
	if u.RealName != "" {
		return u.RealName
	}
	return u.Username
}

// CleanKeyName trims a key name, defaulting it, and checks it.
func CleanKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return DefaultKeyName, nil
	}
	if utf8.RuneCountInString(name) > MaxKeyNameLength {
		return "", ErrInvalidKeyName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", ErrInvalidKeyName
		}
	}
	return name, nil
}

// BeginSecurityKey starts registering a security key named name for the
// subject. It returns the options for navigator.credentials.create (as JSON)
// and the key of the server-side challenge.
func (s *Service) BeginSecurityKey(ctx context.Context, sub Subject, name string) (optionsJSON []byte, challengeKey string, err error) {
	name, err = CleanKeyName(name)
	if err != nil {
		return nil, "", err
	}
	var keys []store.SecurityKey
	if sub.Exists() {
		if keys, err = s.store.SecurityKeysByUser(ctx, sub.User.ID); err != nil {
			return nil, "", fmt.Errorf("enroll: begin security key: %w", err)
		}
	}
	wu := webauthnUser{u: sub.User, keys: keys}
	creation, session, err := s.webauthn.BeginRegistration(wu,
		webauthn.WithExclusions(webauthn.Credentials(wu.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithRegistrationRelyingPartyName(s.orgName(ctx)),
	)
	if err != nil {
		return nil, "", fmt.Errorf("enroll: begin security key: %w", err)
	}
	sessionJSON, err := json.Marshal(session)
	if err != nil {
		return nil, "", fmt.Errorf("enroll: begin security key: %w", err)
	}
	now := s.clock.Now()
	c := store.Challenge{
		Key: secret.NewToken(), UserID: sub.User.ID, Username: sub.User.Username, UserKey: sub.User.Key,
		Method: store.ChallengeSecurityKey, Name: name, CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL),
	}
	c.Secret = s.box.Seal(sessionJSON, challengeAAD(c.Key))
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateChallenge(ctx, &c); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, sub.Who, audit.EnrollmentStarted, audit.TargetUser, sub.User.Username,
			map[string]any{"method": "security_key"}))
	})
	if err != nil {
		return nil, "", fmt.Errorf("enroll: begin security key: %w", err)
	}
	optionsJSON, err = json.Marshal(creation)
	return optionsJSON, c.Key, err
}

// FinishSecurityKey checks the browser's registration response (body is the
// JSON of the PublicKeyCredential) and stores the key (and an inline
// subject's user), ending the challenge (and the link) in one transaction.
func (s *Service) FinishSecurityKey(ctx context.Context, sub Subject, challengeKey string, body io.Reader) (store.SecurityKey, error) {
	u, err := s.currentUser(ctx, sub)
	if err != nil {
		return store.SecurityKey{}, err
	}
	if err := policy.StatusError(u); err != nil {
		return store.SecurityKey{}, err
	}
	c, plain, err := s.challengeFor(ctx, sub, challengeKey)
	if err != nil {
		return store.SecurityKey{}, err
	}
	if c.Method != store.ChallengeSecurityKey {
		return store.SecurityKey{}, ErrChallengeExpired
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(plain, &session); err != nil {
		return store.SecurityKey{}, fmt.Errorf("enroll: finish security key: %w", err)
	}
	var keys []store.SecurityKey
	if sub.Exists() {
		if keys, err = s.store.SecurityKeysByUser(ctx, u.ID); err != nil {
			return store.SecurityKey{}, fmt.Errorf("enroll: finish security key: %w", err)
		}
	}
	// The WebAuthn user handle was the challenge's user key.
	wu := webauthnUser{u: store.User{Key: c.UserKey, Username: c.Username, RealName: u.RealName}, keys: keys}
	now := s.clock.Now()
	parsed, err := protocol.ParseCredentialCreationResponseBody(io.LimitReader(body, 64<<10))
	if err != nil {
		s.auditKeyFailure(ctx, sub, err)
		return store.SecurityKey{}, ErrKeyRejected
	}
	cred, err := s.webauthn.CreateCredential(wu, session, parsed)
	if err != nil {
		s.auditKeyFailure(ctx, sub, err)
		return store.SecurityKey{}, ErrKeyRejected
	}
	k := store.SecurityKey{
		Key: secret.NewID("DW", 20), CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AttestationType: cred.AttestationType, AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: c.Name, CreatedAt: now,
	}
	for _, t := range cred.Transport {
		k.Transports = append(k.Transports, string(t))
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		owner, err := claimChallenge(ctx, q, sub, c, now)
		if err != nil {
			return err
		}
		k.UserID = owner.ID
		if err := q.CreateSecurityKey(ctx, &k); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrKeyRejected
			}
			return err
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, sub.Who, audit.SecurityKeyRegistered, audit.TargetUser, owner.Username,
			map[string]any{"key_id": k.Key, "name": k.Name, "aaguid": fmt.Sprintf("%x", k.AAGUID)})); err != nil {
			return err
		}
		if err := s.deviceChangeEmailTx(ctx, q, owner, notify.DeviceAdded, "Security key \""+k.Name+"\"", now); err != nil {
			return err
		}
		return endEnrollmentTx(ctx, q, sub.LinkID, owner, now, sub.Who)
	})
	if err != nil {
		if errors.Is(err, ErrChallengeExpired) || errors.Is(err, ErrKeyRejected) || errors.Is(err, ErrAlreadyEnrolled) || errors.Is(err, ErrProofRequired) {
			return store.SecurityKey{}, err
		}
		return store.SecurityKey{}, fmt.Errorf("enroll: finish security key: %w", err)
	}
	return k, nil
}

func (s *Service) auditKeyFailure(ctx context.Context, sub Subject, cause error) {
	reason := cause.Error()
	var pe *protocol.Error
	if errors.As(cause, &pe) {
		reason = pe.Type + ": " + pe.Details
	}
	_ = s.store.InsertAudit(ctx, audit.Entry(s.clock.Now(), sub.Who, audit.SecurityKeyRegisterFail, audit.TargetUser, sub.User.Username,
		map[string]any{"reason": reason}))
}
