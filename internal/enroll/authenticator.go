package enroll

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/policy"
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
		"?secret=" + base32Secret + "&issuer=" + strings.ReplaceAll(url.QueryEscape(issuer), "+", "%20") + "&algorithm=SHA1&digits=6&period=30"
}

func challengeAAD(key string) []byte { return []byte("challenge:" + key) }
func phoneAAD(key string) []byte     { return []byte("phone:" + key) }

// BeginAuthenticator starts adding a phone or tablet for the subject: a fresh
// TOTP secret is kept server-side, sealed, for ChallengeTTL until a code
// proves it.
func (s *Service) BeginAuthenticator(ctx context.Context, sub Subject, d PhoneDraft) (AuthenticatorSetup, error) {
	return s.ResumeAuthenticator(ctx, sub, d, "")
}

// ResumeAuthenticator is BeginAuthenticator for a browser that may have
// started a set-up before. keep names the set-up this browser started before, if any. While it is
// live its secret is kept, so that a person who went back a step and
// continued can still use the account already added to the app: with the
// same draft the set-up is returned as it is; with another number or
// platform a new challenge carries the same secret and the old one ends, in
// one transaction.
func (s *Service) ResumeAuthenticator(ctx context.Context, sub Subject, d PhoneDraft, keep string) (AuthenticatorSetup, error) {
	if d.Type != store.PhoneMobile && d.Type != store.PhoneTablet {
		return AuthenticatorSetup{}, fmt.Errorf("enroll: phone type %q cannot hold an authenticator app", d.Type)
	}
	now := s.clock.Now()
	totpSecret := secret.NewTOTPSecret()
	var previous *store.Challenge
	if keep != "" {
		old, plain, err := s.challengeFor(ctx, sub, keep)
		switch {
		case errors.Is(err, ErrChallengeExpired):
		case err != nil:
			return AuthenticatorSetup{}, err
		case old.Method == store.PhoneMobile || old.Method == store.PhoneTablet:
			if old.Method == d.Type && old.Number == d.Number && old.Platform == d.Platform {
				return s.setupOf(ctx, old, string(plain)), nil
			}
			totpSecret, previous = string(plain), &old
		}
	}
	c := store.Challenge{
		Key: secret.NewToken(), UserID: sub.User.ID, Username: sub.User.Username, UserKey: sub.User.Key,
		Method: d.Type, Number: d.Number, Platform: d.Platform, CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL),
	}
	c.Secret = s.box.Seal([]byte(totpSecret), challengeAAD(c.Key))
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if previous != nil {
			if err := q.DeleteChallenge(ctx, previous.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := q.CreateChallenge(ctx, &c); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, sub.Who, audit.EnrollmentStarted, audit.TargetUser, sub.User.Username,
			map[string]any{"method": d.Type, "platform": d.Platform}))
	})
	if err != nil {
		return AuthenticatorSetup{}, fmt.Errorf("enroll: begin authenticator: %w", err)
	}
	return s.setupOf(ctx, c, totpSecret), nil
}

// ErrOlderSetup means a code came from another, older set-up of the same
// user that is still stored: the person added an earlier QR code to the app.
// It is not a guess and does not count as a wrong try.
var ErrOlderSetup = errors.New("enroll: code from an older set-up")

// challengeLister reads a username's challenges: the transaction a code
// check runs in, or the store.
type challengeLister interface {
	ChallengesOfUsername(ctx context.Context, username string) ([]store.Challenge, error)
}

// fromOlderSetup reports whether code matches the secret of another stored
// authenticator set-up of the same user than current, read through q.
func (s *Service) fromOlderSetup(ctx context.Context, q challengeLister, current store.Challenge, code string, now time.Time) (bool, error) {
	all, err := q.ChallengesOfUsername(ctx, current.Username)
	if err != nil {
		return false, fmt.Errorf("enroll: older set-ups: %w", err)
	}
	for _, c := range all {
		if c.Key == current.Key || c.UserID != current.UserID || (c.Method != store.PhoneMobile && c.Method != store.PhoneTablet) {
			continue
		}
		plain, err := s.box.Open(c.Secret, challengeAAD(c.Key))
		if err != nil {
			return false, fmt.Errorf("enroll: open older challenge: %w", err)
		}
		if _, ok := verify.MatchTOTP(string(plain), code, now, 0); ok {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) setupOf(ctx context.Context, c store.Challenge, totpSecret string) AuthenticatorSetup {
	return AuthenticatorSetup{
		ChallengeKey: c.Key, Secret: totpSecret,
		OTPAuthURL: OTPAuthURL(s.orgName(ctx), c.Username, totpSecret),
		Draft:      PhoneDraft{Type: c.Method, Number: c.Number, Platform: c.Platform},
	}
}

// challengeFor loads a live challenge of the subject and opens its secret.
func (s *Service) challengeFor(ctx context.Context, sub Subject, key string) (store.Challenge, []byte, error) {
	c, err := s.store.ChallengeByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, ErrChallengeExpired
	}
	if err != nil {
		return c, nil, fmt.Errorf("enroll: load challenge: %w", err)
	}
	if c.Username != sub.User.Username || (c.UserID != 0 && c.UserID != sub.User.ID) || !s.clock.Now().Before(c.ExpiresAt) {
		return c, nil, ErrChallengeExpired
	}
	plain, err := s.box.Open(c.Secret, challengeAAD(c.Key))
	if err != nil {
		return c, nil, fmt.Errorf("enroll: open challenge: %w", err)
	}
	return c, plain, nil
}

// AuthenticatorSetupFor shows an unproved set-up again (the QR page reloaded).
func (s *Service) AuthenticatorSetupFor(ctx context.Context, sub Subject, challengeKey string) (AuthenticatorSetup, error) {
	c, plain, err := s.challengeFor(ctx, sub, challengeKey)
	if err != nil {
		return AuthenticatorSetup{}, err
	}
	if c.Method != store.PhoneMobile && c.Method != store.PhoneTablet {
		return AuthenticatorSetup{}, ErrChallengeExpired
	}
	return s.setupOf(ctx, c, string(plain)), nil
}

// ConfirmAuthenticator checks the first code from the app. A correct code
// creates the activated phone or tablet (and an inline subject's user), ends
// the challenge (and the link) and clears the user's failure count, in one
// transaction. A wrong code counts towards lockout (verify.CheckCode) and
// returns *verify.WrongCodeError or verify.ErrLockedOut.
func (s *Service) ConfirmAuthenticator(ctx context.Context, sub Subject, challengeKey, code string) (store.Phone, error) {
	u, err := s.currentUser(ctx, sub)
	if err != nil {
		return store.Phone{}, err
	}
	if err := policy.StatusError(u); err != nil {
		return store.Phone{}, err
	}
	c, plain, err := s.challengeFor(ctx, sub, challengeKey)
	if err != nil {
		return store.Phone{}, err
	}
	code = verify.NormalizeCode(code)
	// The owner's email about the new device is composed before the code
	// is checked, so that the check itself stays quick: it runs inside the
	// transaction that reserves the attempt (verify.CodeCheck.Decide).
	var notice *deviceNotice
	if sub.Exists() {
		now := s.clock.Now()
		n, err := s.deviceNotice(ctx, s.store, u, notify.DeviceAdded, PhoneLabel(authenticatorPhone(c, now)), now)
		if err != nil {
			return store.Phone{}, err
		}
		notice = &n
	}
	var ph store.Phone
	decide := func(ctx context.Context, q challengeLister) (verify.Accept, error) {
		now := s.clock.Now()
		step, ok := verify.MatchTOTP(string(plain), code, now, 0)
		if !ok {
			// A code of a set-up the person left behind is a mix-up, not
			// a guess: it is not counted (the attempt is given back).
			older, err := s.fromOlderSetup(ctx, q, c, code, now)
			if err != nil {
				return nil, err
			}
			if older {
				return nil, ErrOlderSetup
			}
			return nil, nil
		}
		return func(ctx context.Context, q store.Queries) error {
			var err error
			ph, err = s.addAuthenticatorTx(ctx, q, sub, c, plain, step, now, notice)
			return err
		}, nil
	}
	if sub.Exists() {
		err = verify.CheckCode(ctx, s.store, s.clock, verify.CodeCheck{User: u, Who: sub.Who, WrongAction: audit.EnrollmentCodeFailed,
			Decide: func(ctx context.Context, q store.Queries) (verify.Accept, error) { return decide(ctx, q) }})
	} else {
		err = s.confirmWithoutAccount(ctx, func() (verify.Accept, error) { return decide(ctx, s.store) })
	}
	switch {
	case err == nil:
		return ph, nil
	case errors.Is(err, ErrChallengeExpired), errors.Is(err, ErrAlreadyEnrolled), errors.Is(err, ErrProofRequired), errors.Is(err, ErrOlderSetup), errors.Is(err, verify.ErrLockedOut):
		return store.Phone{}, err
	case errors.As(err, new(*verify.WrongCodeError)):
		return store.Phone{}, err
	}
	return store.Phone{}, fmt.Errorf("enroll: confirm: %w", err)
}

// confirmWithoutAccount checks the code of a subject who has no account
// yet: nothing to lock, and the code is the subject's own secret anyway, so
// there is nothing to guess either.
func (s *Service) confirmWithoutAccount(ctx context.Context, match func() (verify.Accept, error)) error {
	accept, err := match()
	if err != nil {
		return err
	}
	if accept == nil {
		return &verify.WrongCodeError{Remaining: -1}
	}
	return s.store.InTx(ctx, func(q store.Queries) error { return accept(ctx, q) })
}

// authenticatorPhone is the phone or tablet the proved challenge c adds,
// activated at now, without its secret and step.
func authenticatorPhone(c store.Challenge, now time.Time) store.Phone {
	ph := store.Phone{
		Key: secret.NewID("DP", 20), Number: c.Number, Type: c.Method, Platform: c.Platform,
		Activated: true, ActivatedAt: &now, CreatedAt: now,
	}
	if ph.Platform == "" {
		ph.Platform = store.PlatformGeneric
	}
	return ph
}

// addAuthenticatorTx stores the proved authenticator of challenge c as an
// activated phone or tablet of its owner, and ends the challenge and the
// subject's link. notice, when not nil, is the owner's email about it,
// composed before the transaction.
func (s *Service) addAuthenticatorTx(ctx context.Context, q store.Queries, sub Subject, c store.Challenge, plain []byte, step int64, now time.Time, notice *deviceNotice) (store.Phone, error) {
	ph := authenticatorPhone(c, now)
	ph.LastTOTPStep = step
	ph.TOTPSecret = s.box.Seal(plain, phoneAAD(ph.Key))
	owner, err := claimChallenge(ctx, q, sub, c, now)
	if err != nil {
		return ph, err
	}
	if !sub.Exists() {
		// The account was made or found just now; one that an admin made
		// meanwhile and that is locked out gets no device this way.
		cleared, err := q.PassUserAttempt(ctx, owner.ID)
		if err != nil {
			return ph, err
		}
		if !cleared {
			return ph, verify.ErrLockedOut
		}
	}
	if err := q.CreatePhone(ctx, &ph); err != nil {
		return ph, err
	}
	if err := q.AttachPhone(ctx, owner.ID, ph.ID); err != nil {
		return ph, err
	}
	if err := q.InsertAudit(ctx, audit.Entry(now, sub.Who, audit.PhoneActivated, audit.TargetUser, owner.Username,
		map[string]any{"phone_id": ph.Key, "type": ph.Type, "platform": ph.Platform, "number": ph.Number})); err != nil {
		return ph, err
	}
	err = errNoticeStale
	if notice != nil {
		err = notice.enqueueTx(ctx, q, owner, now)
	}
	if errors.Is(err, errNoticeStale) {
		err = s.deviceChangeEmailTx(ctx, q, owner, notify.DeviceAdded, PhoneLabel(ph), now)
	}
	if err != nil {
		return ph, err
	}
	return ph, endEnrollmentTx(ctx, q, sub.LinkID, owner, now, sub.Who)
}

// OpenPhoneSecret returns the base32 TOTP secret of an activated phone.
func (s *Service) OpenPhoneSecret(ph store.Phone) (string, error) {
	plain, err := s.box.Open(ph.TOTPSecret, phoneAAD(ph.Key))
	return string(plain), err
}
