package enroll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// Activation durations.
const (
	// ActivationTTL is how long an activation link works unless the admin
	// chooses otherwise.
	ActivationTTL = 24 * time.Hour
	// MaxActivationTTL is the longest an admin may choose.
	MaxActivationTTL = 30 * 24 * time.Hour
	// ActivationChallengeTTL is how long the secret shown on the activation
	// page waits for its first code: long enough to install an app first.
	ActivationChallengeTTL = time.Hour
	// MaxPhoneNameLength bounds a phone's name.
	MaxPhoneNameLength = 60
)

// Errors of phones and activation a person can be told about.
var (
	ErrNotActivatable     = errors.New("enroll: only a mobile with a known platform, or a tablet, can be activated")
	ErrActivationNotFound = errors.New("enroll: no such activation link")
	ErrActivationExpired  = errors.New("enroll: activation link expired")
	ErrActivationUsed     = errors.New("enroll: activation link already used")
	ErrInvalidPhoneType   = errors.New("enroll: the type is mobile, landline or tablet")
	ErrInvalidPlatform    = errors.New("enroll: unknown platform")
	ErrInvalidPhoneName   = errors.New("enroll: invalid phone name")
	ErrTabletNumber       = errors.New("enroll: a tablet has no phone number")
	ErrInvalidTTL         = errors.New("enroll: activation validity out of range")
	ErrPhoneNotOfUser     = errors.New("enroll: the phone does not belong to the user")
)

// ActivationPendingError means the phone was sent an activation link that
// still works; another may be sent once it expires.
type ActivationPendingError struct{ Until time.Time }

func (e *ActivationPendingError) Error() string {
	return "enroll: an activation link was sent and works until " + e.Until.UTC().Format(time.RFC3339)
}

// CanActivate reports whether an authenticator app can be activated on p: a
// mobile with a known platform, or a tablet.
func CanActivate(p store.Phone) bool {
	return p.Type == store.PhoneTablet || (p.Type == store.PhoneMobile && p.Platform != store.PlatformUnknown && p.Platform != "")
}

// AdminPlatforms are the platforms an admin may give a phone.
var AdminPlatforms = []string{store.PlatformIOS, store.PlatformAndroid, store.PlatformGeneric, store.PlatformUnknown}

// NewPhone is a phone or tablet an admin adds to a user.
type NewPhone struct {
	Type     string
	Number   string // free format; +country code or the region's format
	Region   string // ISO 3166 code for numbers without +country code
	Platform string // empty: Generic Smartphone (mobiles, tablets)
	Name     string
}

// AddPhone adds a phone or tablet to u: a number already known attaches its
// existing phone (phones may be shared). It is one transaction with its
// audit record.
func (s *Service) AddPhone(ctx context.Context, u store.User, np NewPhone, who audit.Who) (store.Phone, error) {
	ph, err := preparePhone(np)
	if err != nil {
		return store.Phone{}, err
	}
	now := s.clock.Now()
	ph.CreatedAt = now
	err = s.store.InTx(ctx, func(q store.Queries) error {
		shared := false
		if ph.Number != "" {
			existing, err := q.PhoneByNumber(ctx, ph.Number, ph.Extension)
			switch {
			case err == nil:
				ph, shared = existing, true
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if !shared {
			ph.Key = secret.NewID("DP", 20)
			if err := q.CreatePhone(ctx, &ph); err != nil {
				return err
			}
		}
		if err := q.AttachPhone(ctx, u.ID, ph.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneAdded, audit.TargetUser, u.Username,
			map[string]any{"phone_id": ph.Key, "type": ph.Type, "platform": ph.Platform, "number": ph.Number, "shared": shared}))
	})
	if err != nil {
		return store.Phone{}, fmt.Errorf("enroll: add phone: %w", err)
	}
	return ph, nil
}

func preparePhone(np NewPhone) (store.Phone, error) {
	ph := store.Phone{Type: np.Type, Platform: np.Platform, Name: strings.TrimSpace(np.Name)}
	if utf8.RuneCountInString(ph.Name) > MaxPhoneNameLength {
		return ph, ErrInvalidPhoneName
	}
	for _, r := range ph.Name {
		if r < 0x20 || r == 0x7f {
			return ph, ErrInvalidPhoneName
		}
	}
	switch ph.Type {
	case store.PhoneMobile, store.PhoneTablet:
		if ph.Platform == "" {
			ph.Platform = store.PlatformGeneric
		}
	case store.PhoneLandline:
		ph.Platform = store.PlatformUnknown
	default:
		return ph, ErrInvalidPhoneType
	}
	known := false
	for _, p := range AdminPlatforms {
		known = known || p == ph.Platform
	}
	if !known {
		return ph, ErrInvalidPlatform
	}
	number := strings.TrimSpace(np.Number)
	if ph.Type == store.PhoneTablet {
		if number != "" {
			return ph, ErrTabletNumber
		}
		return ph, nil
	}
	region := strings.ToUpper(np.Region)
	if region == "" {
		region = "US"
	}
	if number == "" || len(number) > 40 {
		return ph, ErrInvalidNumber
	}
	n, err := phonenumbers.Parse(number, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return ph, ErrInvalidNumber
	}
	ph.Number, ph.Extension = phonenumbers.Format(n, phonenumbers.E164), n.GetExtension()
	return ph, nil
}

// IssuedActivation is a fresh activation code and the links it makes.
type IssuedActivation struct {
	Code       store.ActivationCode
	Phone      store.Phone
	User       store.User
	Token      string
	URL        string // the activation link, opened on the phone
	InstallURL string // how to install an authenticator app
}

// ActivationURL is the activation link of token.
func (s *Service) ActivationURL(token string) string { return s.baseURL + "/activate/" + token }

// InstallURL is the page that says how to install an authenticator app on
// a platform.
func (s *Service) InstallURL(platform string) string {
	switch platform {
	case store.PlatformIOS:
		return s.baseURL + "/install?platform=ios"
	case store.PlatformAndroid:
		return s.baseURL + "/install?platform=android"
	}
	return s.baseURL + "/install"
}

// IssueActivationTx creates an activation code for the phone ph of u, valid
// for ttl (ActivationTTL when zero), inside the caller's transaction. via is
// how it will be sent ("sms", "email") or "" when the admin only shows the
// link. Older unused codes of the phone stop working. It fails with
// *ActivationPendingError while a code sent earlier still works.
func (s *Service) IssueActivationTx(ctx context.Context, q store.Queries, u store.User, ph store.Phone, ttl time.Duration, via string, who audit.Who) (IssuedActivation, error) {
	if ttl == 0 {
		ttl = ActivationTTL
	}
	if ttl < time.Minute || ttl > MaxActivationTTL {
		return IssuedActivation{}, ErrInvalidTTL
	}
	if !CanActivate(ph) {
		return IssuedActivation{}, ErrNotActivatable
	}
	now := s.clock.Now()
	live, err := q.LiveSentActivationCode(ctx, ph.ID, now)
	if err == nil {
		return IssuedActivation{}, &ActivationPendingError{Until: live.ExpiresAt}
	}
	if !errors.Is(err, store.ErrNotFound) {
		return IssuedActivation{}, err
	}
	if _, err := q.DeleteUnusedActivationCodes(ctx, ph.ID); err != nil {
		return IssuedActivation{}, err
	}
	token := secret.NewToken()
	c := store.ActivationCode{
		PhoneID: ph.ID, UserID: u.ID, CodeHash: secret.HashToken(token), CreatedBy: who.Type + ":" + who.Name,
		CreatedAt: now, ExpiresAt: now.Add(ttl), SentVia: via,
	}
	if via != "" {
		c.SentAt = &now
	}
	if err := q.CreateActivationCode(ctx, &c); err != nil {
		return IssuedActivation{}, err
	}
	action := audit.ActivationCodeCreated
	if via != "" {
		action = audit.ActivationLinkSent
	}
	if err := q.InsertAudit(ctx, audit.Entry(now, who, action, audit.TargetUser, u.Username,
		map[string]any{"phone_id": ph.Key, "code_id": c.ID, "via": via, "expires_at": c.ExpiresAt.Unix()})); err != nil {
		return IssuedActivation{}, err
	}
	return IssuedActivation{
		Code: c, Phone: ph, User: u, Token: token,
		URL: s.ActivationURL(token), InstallURL: s.InstallURL(ph.Platform),
	}, nil
}

// PhoneOfUser loads phone phoneID and checks that it belongs to u.
func PhoneOfUser(ctx context.Context, q store.Queries, u store.User, phoneID int64) (store.Phone, error) {
	phones, err := q.PhonesByUser(ctx, u.ID)
	if err != nil {
		return store.Phone{}, err
	}
	for _, p := range phones {
		if p.ID == phoneID {
			return p, nil
		}
	}
	return store.Phone{}, ErrPhoneNotOfUser
}

// Activation is an activation link opened on the phone.
type Activation struct {
	Code  store.ActivationCode
	Phone store.Phone
	User  store.User
}

// OpenActivation finds the activation of token, or says why it cannot be
// used (ErrActivationNotFound, ErrActivationExpired, ErrActivationUsed).
func (s *Service) OpenActivation(ctx context.Context, token string) (Activation, error) {
	if len(token) < 20 || len(token) > 100 {
		return Activation{}, ErrActivationNotFound
	}
	c, err := s.store.ActivationCodeByHash(ctx, secret.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Activation{}, ErrActivationNotFound
	}
	if err != nil {
		return Activation{}, fmt.Errorf("enroll: open activation: %w", err)
	}
	a := Activation{Code: c}
	switch {
	case c.UsedAt != nil:
		return a, ErrActivationUsed
	case !s.clock.Now().Before(c.ExpiresAt):
		return a, ErrActivationExpired
	}
	if a.Phone, err = s.store.PhoneByID(ctx, c.PhoneID); err != nil {
		return a, fmt.Errorf("enroll: open activation: %w", err)
	}
	if a.User, err = s.store.UserByID(ctx, c.UserID); err != nil {
		return a, fmt.Errorf("enroll: open activation: %w", err)
	}
	return a, nil
}

// BeginActivation shows the secret the phone's authenticator app should
// hold: the one of challengeKey when it is still pending for this phone
// (the page reloaded), else a fresh one kept server-side until proved.
func (s *Service) BeginActivation(ctx context.Context, a Activation, challengeKey string, who audit.Who) (AuthenticatorSetup, error) {
	if challengeKey != "" {
		if c, plain, err := s.challengeFor(ctx, Subject{User: a.User}, challengeKey); err == nil &&
			c.Method == store.ChallengeActivation && c.PhoneID != nil && *c.PhoneID == a.Phone.ID {
			return s.setupOf(ctx, c, string(plain)), nil
		}
	}
	now := s.clock.Now()
	expires := now.Add(ActivationChallengeTTL)
	if a.Code.ExpiresAt.Before(expires) {
		expires = a.Code.ExpiresAt
	}
	phoneID := a.Phone.ID
	totpSecret := secret.NewTOTPSecret()
	c := store.Challenge{
		Key: secret.NewToken(), UserID: a.User.ID, Username: a.User.Username, UserKey: a.User.Key, Method: store.ChallengeActivation, PhoneID: &phoneID,
		Number: a.Phone.Number, Platform: a.Phone.Platform, CreatedAt: now, ExpiresAt: expires,
	}
	c.Secret = s.box.Seal([]byte(totpSecret), challengeAAD(c.Key))
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateChallenge(ctx, &c); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentStarted, audit.TargetUser, a.User.Username,
			map[string]any{"method": "activation", "phone_id": a.Phone.Key}))
	})
	if err != nil {
		return AuthenticatorSetup{}, fmt.Errorf("enroll: begin activation: %w", err)
	}
	setup := s.setupOf(ctx, c, totpSecret)
	setup.Draft.Type = a.Phone.Type
	return setup, nil
}

// ActivationSetupFor shows the pending secret of challengeKey again (the QR
// image of the page), or ErrChallengeExpired; it never starts a new one.
func (s *Service) ActivationSetupFor(ctx context.Context, a Activation, challengeKey string) (AuthenticatorSetup, error) {
	c, plain, err := s.challengeFor(ctx, Subject{User: a.User}, challengeKey)
	if err != nil {
		return AuthenticatorSetup{}, err
	}
	if c.Method != store.ChallengeActivation || c.PhoneID == nil || *c.PhoneID != a.Phone.ID {
		return AuthenticatorSetup{}, ErrChallengeExpired
	}
	return s.setupOf(ctx, c, string(plain)), nil
}

// ConfirmActivation checks the first code of the phone's app. A correct code
// stores the secret on the phone and activates it, ends the code and the
// challenge and clears the user's failure count, in one transaction. A wrong
// code counts towards lockout (verify.CheckCode: *verify.WrongCodeError,
// verify.ErrLockedOut).
func (s *Service) ConfirmActivation(ctx context.Context, a Activation, challengeKey, code string, who audit.Who) (store.Phone, error) {
	u, err := s.store.UserByID(ctx, a.User.ID)
	if err != nil {
		return store.Phone{}, fmt.Errorf("enroll: confirm activation: %w", err)
	}
	if err := policy.StatusError(u); err != nil {
		return store.Phone{}, err
	}
	c, plain, err := s.challengeFor(ctx, Subject{User: u}, challengeKey)
	if err != nil {
		return store.Phone{}, err
	}
	if c.Method != store.ChallengeActivation || c.PhoneID == nil || *c.PhoneID != a.Phone.ID {
		return store.Phone{}, ErrChallengeExpired
	}
	code = verify.NormalizeCode(code)
	ph := a.Phone
	sealed := s.box.Seal(plain, phoneAAD(ph.Key))
	var now time.Time
	var step int64
	err = verify.CheckCode(ctx, s.store, s.clock, verify.CodeCheck{User: u, Who: who, WrongAction: audit.ActivationFailed, Match: func() (verify.Accept, error) {
		now = s.clock.Now()
		var ok bool
		if step, ok = verify.MatchTOTP(string(plain), code, now, 0); !ok {
			return nil, nil
		}
		return func(ctx context.Context, q store.Queries) error {
			return s.activateTx(ctx, q, a, u, c, sealed, step, now, who)
		}, nil
	}})
	if err != nil {
		var wrong *verify.WrongCodeError
		if errors.Is(err, ErrChallengeExpired) || errors.Is(err, ErrActivationUsed) || errors.Is(err, verify.ErrLockedOut) || errors.As(err, &wrong) {
			return store.Phone{}, err
		}
		return store.Phone{}, fmt.Errorf("enroll: confirm activation: %w", err)
	}
	ph.Activated, ph.ActivatedAt, ph.LastTOTPStep, ph.TOTPSecret = true, &now, step, sealed
	return ph, nil
}

// activateTx stores the proved secret on the phone of a and ends the
// activation code and the challenge.
func (s *Service) activateTx(ctx context.Context, q store.Queries, a Activation, u store.User, c store.Challenge, sealed []byte, step int64, now time.Time, who audit.Who) error {
	if err := q.DeleteChallenge(ctx, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrChallengeExpired
		}
		return err
	}
	used, err := q.MarkActivationCodeUsed(ctx, a.Code.ID, now)
	if err != nil {
		return err
	}
	if !used {
		return ErrActivationUsed
	}
	ph := a.Phone
	if err := q.ActivatePhone(ctx, ph.ID, sealed, step, now); err != nil {
		return err
	}
	if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneActivated, audit.TargetUser, u.Username,
		map[string]any{"phone_id": ph.Key, "type": ph.Type, "platform": ph.Platform, "number": ph.Number, "via": "activation link"})); err != nil {
		return err
	}
	return endEnrollmentTx(ctx, q, 0, u, now, who)
}
