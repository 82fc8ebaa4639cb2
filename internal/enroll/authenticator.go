package enroll

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// PhoneDraft is a phone or tablet the user is adding, before it is proved.
type PhoneDraft struct {
	Type     string // store.PhoneMobile or store.PhoneTablet
	Number   string // E.164, mobiles only
	Platform string
}

// AuthenticatorSetup is what the user needs to add the account to an
// authenticator app.
type AuthenticatorSetup struct {
	ChallengeKey string
	Secret       string // base32, shown grouped for "can't scan"
	OTPAuthURL   string // what the QR code and the "add to app" button hold
	Draft        PhoneDraft
}

// GroupedSecret shows the secret in groups of four, as people copy it.
func (a AuthenticatorSetup) GroupedSecret() string {
	var b strings.Builder
	for i, r := range a.Secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// OTPAuthURL builds the otpauth:// URL authenticator apps read.
func OTPAuthURL(issuer, username, base32Secret string) string {
	// Written by hand rather than with url.Values, which would sort the keys:
	// some apps read only the documented order.
	return "otpauth://totp/" + url.PathEscape(issuer) + ":" + url.PathEscape(username) +
		"?secret=" + base32Secret + "&issuer=" + url.QueryEscape(issuer) + "&algorithm=SHA1&digits=6&period=30"
}

func challengeAAD(key string) []byte { return []byte("challenge:" + key) }
func phoneAAD(key string) []byte     { return []byte("phone:" + key) }

// BeginAuthenticator starts adding a phone or tablet for u: a fresh TOTP
// secret is kept server-side, sealed, for ChallengeTTL until a code proves it.
func (s *Service) BeginAuthenticator(ctx context.Context, u store.User, d PhoneDraft, who audit.Who) (AuthenticatorSetup, error) {
	if d.Type != store.PhoneMobile && d.Type != store.PhoneTablet {
		return AuthenticatorSetup{}, fmt.Errorf("enroll: phone type %q cannot hold an authenticator app", d.Type)
	}
	now := s.clock.Now()
	totpSecret := secret.NewTOTPSecret()
	c := store.Challenge{
		Key: secret.NewToken(), UserID: u.ID, Method: d.Type, Number: d.Number, Platform: d.Platform,
		CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL),
	}
	c.Secret = s.box.Seal([]byte(totpSecret), challengeAAD(c.Key))
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateChallenge(ctx, &c); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentStarted, audit.TargetUser, u.Username,
			map[string]any{"method": d.Type, "platform": d.Platform}))
	})
	if err != nil {
		return AuthenticatorSetup{}, fmt.Errorf("enroll: begin authenticator: %w", err)
	}
	return s.setupOf(ctx, u, c, totpSecret), nil
}

func (s *Service) setupOf(ctx context.Context, u store.User, c store.Challenge, totpSecret string) AuthenticatorSetup {
	return AuthenticatorSetup{
		ChallengeKey: c.Key, Secret: totpSecret,
		OTPAuthURL: OTPAuthURL(s.orgName(ctx), u.Username, totpSecret),
		Draft:      PhoneDraft{Type: c.Method, Number: c.Number, Platform: c.Platform},
	}
}

// challengeFor loads a live challenge of u and opens its secret.
func (s *Service) challengeFor(ctx context.Context, u store.User, key string) (store.Challenge, []byte, error) {
	c, err := s.store.ChallengeByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, ErrChallengeExpired
	}
	if err != nil {
		return c, nil, fmt.Errorf("enroll: load challenge: %w", err)
	}
	if c.UserID != u.ID || !s.clock.Now().Before(c.ExpiresAt) {
		return c, nil, ErrChallengeExpired
	}
	plain, err := s.box.Open(c.Secret, challengeAAD(c.Key))
	if err != nil {
		return c, nil, fmt.Errorf("enroll: open challenge: %w", err)
	}
	return c, plain, nil
}

// AuthenticatorSetupFor shows an unproved set-up again (the QR page reloaded).
func (s *Service) AuthenticatorSetupFor(ctx context.Context, u store.User, challengeKey string) (AuthenticatorSetup, error) {
	c, plain, err := s.challengeFor(ctx, u, challengeKey)
	if err != nil {
		return AuthenticatorSetup{}, err
	}
	if c.Method != store.PhoneMobile && c.Method != store.PhoneTablet {
		return AuthenticatorSetup{}, ErrChallengeExpired
	}
	return s.setupOf(ctx, u, c, string(plain)), nil
}

// Proof is what finishes adding a factor.
type Proof struct {
	User         store.User
	ChallengeKey string
	// LinkID is the enrollment link the user came through, ended in the same
	// transaction as the first factor it added; zero for none.
	LinkID int64
	Who    audit.Who
}

// ConfirmAuthenticator checks the first code from the app. A correct code
// creates the activated phone or tablet, ends the challenge (and the link)
// and clears the user's failure count, in one transaction. A wrong code
// counts towards lockout and returns *verify.WrongCodeError or
// verify.ErrLockedOut.
func (s *Service) ConfirmAuthenticator(ctx context.Context, p Proof, code string) (store.Phone, error) {
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return store.Phone{}, fmt.Errorf("enroll: confirm: %w", err)
	}
	switch u.Status {
	case store.StatusLockedOut:
		return store.Phone{}, verify.ErrLockedOut
	case store.StatusDisabled:
		return store.Phone{}, ErrUserDisabled
	}
	c, plain, err := s.challengeFor(ctx, u, p.ChallengeKey)
	if err != nil {
		return store.Phone{}, err
	}
	now := s.clock.Now()
	step, ok := verify.MatchTOTP(string(plain), verify.NormalizeCode(code), now, 0)
	if !ok {
		return store.Phone{}, verify.RecordFailure(ctx, s.store, s.clock, u, audit.EnrollmentCodeFailed, p.Who)
	}
	ph := store.Phone{
		Key: secret.NewID("DP", 20), Number: c.Number, Type: c.Method, Platform: c.Platform,
		Activated: true, ActivatedAt: &now, LastTOTPStep: step, CreatedAt: now,
	}
	if ph.Platform == "" {
		ph.Platform = store.PlatformGeneric
	}
	ph.TOTPSecret = s.box.Seal(plain, phoneAAD(ph.Key))
	err = s.store.InTx(ctx, func(q store.Queries) error {
		// Deleting first makes a concurrent second confirm of the same
		// challenge fail here instead of creating a second phone.
		if err := q.DeleteChallenge(ctx, c.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrChallengeExpired
			}
			return err
		}
		if err := q.CreatePhone(ctx, &ph); err != nil {
			return err
		}
		if err := q.AttachPhone(ctx, u.ID, ph.ID); err != nil {
			return err
		}
		if err := q.ResetUserFailures(ctx, u.ID); err != nil {
			return err
		}
		if err := q.InsertAudit(ctx, audit.Entry(now, p.Who, audit.PhoneActivated, audit.TargetUser, u.Username,
			map[string]any{"phone_id": ph.Key, "type": ph.Type, "platform": ph.Platform, "number": ph.Number})); err != nil {
			return err
		}
		if p.LinkID != 0 {
			return endLinkTx(ctx, q, p.LinkID, u, now, p.Who)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrChallengeExpired) {
			return store.Phone{}, err
		}
		return store.Phone{}, fmt.Errorf("enroll: confirm: %w", err)
	}
	return ph, nil
}

// OpenPhoneSecret returns the base32 TOTP secret of an activated phone.
func (s *Service) OpenPhoneSecret(ph store.Phone) (string, error) {
	plain, err := s.box.Open(ph.TOTPSecret, phoneAAD(ph.Key))
	return string(plain), err
}
