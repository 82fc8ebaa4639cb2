package prompt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// Limits of the protocol. Duo's clients make every JWT valid for 300 s and
// accept 60 s of clock skew; the portal allows the same skew.
const (
	CodeTTL        = 60 * time.Second // an authorization code
	TransactionTTL = 15 * time.Minute // time to finish the prompt, enrollment included
	IDTokenTTL     = 5 * time.Minute  // exp of the id_token and the access token
	Leeway         = 60 * time.Second // clock skew allowed on exp, nbf and iat
	// MaxJWTLifetime bounds how far in the future a client's JWT may expire,
	// so that a captured one is not usable for long and jti records are
	// short-lived.
	MaxJWTLifetime = 10 * time.Minute
	MaxJWTLength   = 8 << 10
	MinStateLength = 16
	MaxStateLength = 1024
	MaxNonceLength = 512
	// MaxUsernameLength bounds duo_uname as sent (before "simple"
	// normalization strips a domain).
	MaxUsernameLength = 256
	MaxJTILength      = 256
	ClientIDLength    = 20
)

// Endpoint paths, part of the audiences the client's JWTs must name.
const (
	PathAuthorize   = "/oauth/v1/authorize"
	PathToken       = "/oauth/v1/token"
	PathHealthCheck = "/oauth/v1/health_check"
)

// Secrets gives the unsealed client secret of an application (apps.Service).
type Secrets interface {
	Secret(a store.Application) (string, error)
}

// Usage records an application's successful authorize request, its "last
// used" (apps.Service; in memory, written at most once a minute).
type Usage interface {
	Used(a store.Application)
}

// Store is what the Universal Prompt uses of the database: its login
// transactions and authorization codes, the applications and users they
// name, and the transactions (grouped for the many short writes of logins)
// that change them, and what a passcode check reads.
type Store interface {
	store.Transactor
	store.GroupTransactor
	store.PromptQueries
	store.ApplicationQueries
	store.UserQueries
	store.GroupQueries
	verify.PasscodeStore
}

// Options configure a Service.
type Options struct {
	Store   Store
	Clock   clock.Clock
	Secrets Secrets
	// Usage, when set, hears of every verified authorize request.
	Usage Usage
	// BaseURL is the portal's public URL. Its host (with the port) is the
	// api_host the clients are configured with.
	BaseURL string
}

// Service applies the Universal Prompt rules.
type Service struct {
	store   Store
	clock   clock.Clock
	secrets Secrets
	usage   Usage
	baseURL string
	host    string
}

// New returns a Service.
func New(o Options) (*Service, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("prompt: base URL %q is not a URL", o.BaseURL)
	}
	return &Service{store: o.Store, clock: o.Clock, secrets: o.Secrets, usage: o.Usage, baseURL: strings.TrimRight(o.BaseURL, "/"), host: u.Host}, nil
}

// Issuer is the iss of every id_token. Duo's clients build it as
// https://{api_host}/oauth/v1/token whatever scheme the portal is reached
// by, with the port when the host has one.
func (s *Service) Issuer() string { return "https://" + s.host + PathToken }

// audiences are the values a client's JWT may name for path: Duo's clients
// always say https://{api_host}{path}; a client of a portal served over
// plain HTTP (local development) may name the base URL instead.
func (s *Service) audiences(path string) []string {
	out := []string{"https://" + s.host + path}
	if b := s.baseURL + path; b != out[0] {
		out = append(out, b)
	}
	return out
}

// Client finds the web application of clientID and its secret.
func (s *Service) Client(ctx context.Context, clientID string) (store.Application, string, error) {
	if len(clientID) != ClientIDLength {
		return store.Application{}, "", refuse(CodeInvalidClient, "The client_id is not valid.")
	}
	a, err := s.store.ApplicationByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Kind != store.AppWeb) {
		return store.Application{}, "", refuse(CodeInvalidClient, "The client_id is not valid.")
	}
	if err != nil {
		return store.Application{}, "", fmt.Errorf("prompt: client: %w", err)
	}
	sec, err := s.secrets.Secret(a)
	if err != nil {
		return store.Application{}, "", fmt.Errorf("prompt: client secret: %w", err)
	}
	return a, sec, nil
}

// Now is the service's clock reading.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Sweep deletes expired transactions, codes and assertion records.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredPromptData(ctx, s.clock.Now())
}
