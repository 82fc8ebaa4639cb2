package enroll

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"enrollportal/internal/clock"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// Durations of the enrollment rules.
const (
	LinkTTL      = 30 * 24 * time.Hour // an enrollment link, unless the caller says otherwise
	ChallengeTTL = 10 * time.Minute    // an unproved factor
)

// Errors a person can be told about. Web pages map each to its own message.
var (
	ErrLinkNotFound     = errors.New("enroll: no such enrollment link")
	ErrLinkExpired      = errors.New("enroll: enrollment link expired")
	ErrLinkUsed         = errors.New("enroll: enrollment link already used")
	ErrLinkRevoked      = errors.New("enroll: enrollment link no longer valid")
	ErrUserNotFound     = errors.New("enroll: no such user")
	ErrChallengeExpired = errors.New("enroll: set-up expired")
)

// ErrUserDisabled is the status gate's error for a disabled user
// (policy.StatusDenial); a locked-out user gets verify.ErrLockedOut.
var ErrUserDisabled = policy.ErrUserDisabled

// Store is what enrollment uses of the database outside its transactions:
// users and their factors, links, challenges and activation codes, the
// message texts and settings, and transactions for every change.
type Store interface {
	store.Transactor
	store.GroupTransactor
	store.UserQueries
	store.PhoneQueries
	store.SecurityKeyQueries
	store.HardwareTokenQueries
	store.FactorQueries
	store.SMSPasscodeQueries
	store.TokenQueries
	store.EnrollmentLinkQueries
	store.PendingEnrollmentQueries
	store.ChallengeQueries
	store.ActivationQueries
	store.TemplateQueries
	store.SettingQueries
	store.AuditQueries
}

// Options configure a Service.
type Options struct {
	Store   Store
	Clock   clock.Clock
	Box     *secret.Box
	BaseURL string // the portal's public URL: links, WebAuthn origin and rp id
	// OrgName returns the organisation's name: the issuer in authenticator
	// apps and the relying party name of security keys.
	OrgName func(ctx context.Context) string
}

// Service applies the enrollment rules.
type Service struct {
	store     Store
	clock     clock.Clock
	box       *secret.Box
	baseURL   string
	orgName   func(ctx context.Context) string
	linkKey   []byte
	inlineKey []byte
	bypassKey []byte
	smsKey    []byte
	webauthn  *webauthn.WebAuthn
}

// New returns a Service.
func New(o Options) (*Service, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("enroll: base URL %q is not a URL", o.BaseURL)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Enrollment Portal",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("enroll: webauthn: %w", err)
	}
	return &Service{
		store: o.Store, clock: o.Clock, box: o.Box, baseURL: o.BaseURL, orgName: o.OrgName,
		linkKey: o.Box.SubKey("enrollment-link-token"), inlineKey: o.Box.SubKey("inline-enrollment-token"),
		bypassKey: o.Box.SubKey("bypass-code"),
		smsKey:    o.Box.SubKey("sms-passcode"),
		webauthn:  wa,
	}, nil
}

// Now is the service's clock reading.
func (s *Service) Now() time.Time { return s.clock.Now() }

func newUserKey() string { return secret.NewID("DU", 20) }

// BypassCodeHash is the keyed hash a bypass code is stored under
// (verify.HashBypassCode with this portal's key).
func (s *Service) BypassCodeHash(code string) []byte { return verify.HashBypassCode(s.bypassKey, code) }

// SMSPasscodeHash is the keyed hash an SMS passcode is stored under
// (verify.HashSMSPasscode, under the key factors.Service derives alike).
func (s *Service) SMSPasscodeHash(code string) []byte { return verify.HashSMSPasscode(s.smsKey, code) }

func tokenAAD(key string) []byte { return []byte("hardware-token:" + key) }

// SealTokenSecret seals a hardware token's OATH secret for storage, bound
// to its public id.
func (s *Service) SealTokenSecret(key string, secret []byte) []byte {
	return s.box.Seal(secret, tokenAAD(key))
}

// OpenTokenSecret opens the sealed secret of a hardware token.
func (s *Service) OpenTokenSecret(t store.OATHToken) ([]byte, error) {
	return s.box.Open(t.Secret, tokenAAD(t.Key))
}
