package apps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Lengths of credentials, as Duo's clients check them.
const (
	ClientIDLength     = 20 // client_id / ikey: "DI" + 18 upper-case letters and digits
	ClientSecretLength = 40 // client_secret / skey
	MaxNameLength      = 100
)

// Kinds lists the application kinds in the order they are offered.
var Kinds = []string{store.AppWeb, store.AppUnix, store.AppAuthAPI, store.AppAdminAPI}

// NewUserPolicies lists the values --new-user-policy accepts.
var NewUserPolicies = []string{store.NewUserRequireEnrollment, store.NewUserAllow, store.NewUserDeny}

// Errors that carry a sentence a person can act on.
var (
	ErrInvalidName          = errors.New("an application needs a name of 1 to 100 characters")
	ErrInvalidKind          = errors.New("the kind of application must be web, unix, auth-api or admin-api")
	ErrInvalidNewUserPolicy = errors.New("the new user policy must be require-enrollment, allow or deny")
	ErrRedirectNotWeb       = errors.New("only web applications have redirect URIs")
	ErrGrantsNotAdminAPI    = errors.New("only admin-api applications have grants")
	ErrInvalidGrant         = errors.New("a grant must be one of read-resource, write-resource, read-log and settings")
	ErrNotFound             = errors.New("no application has that client id")
)

// InvalidRedirectURIError names a redirect URI that cannot be registered.
type InvalidRedirectURIError struct{ URI string }

func (e *InvalidRedirectURIError) Error() string {
	return fmt.Sprintf("redirect URI %q must be an absolute https:// URL (http:// only for localhost or 127.0.0.1), without a #fragment", e.URI)
}

// NewApp is what it takes to create an application.
type NewApp struct {
	Name, Kind string
	// NewUserPolicy, when set, gives the application a policy of its own
	// with that new user policy; empty inherits the global policy.
	NewUserPolicy string
	RedirectURIs  []string
	// Grants are an admin-api application's Admin API grants (store.Grants).
	Grants []string
}

// Created is a new application with its credentials in clear, shown once.
type Created struct {
	App          store.Application
	ClientID     string // client_id (web) or ikey
	ClientSecret string // client_secret (web) or skey
}

// Service creates and reads applications.
type Service struct {
	Store store.Store
	Clock clock.Clock
	Box   *secret.Box
}

func secretAAD(appKey string) []byte { return []byte("application:" + appKey) }

// ValidateRedirectURI accepts absolute https URLs, and http URLs on the
// loopback names a developer uses.
func ValidateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return &InvalidRedirectURIError{URI: raw}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
			return nil
		}
	}
	return &InvalidRedirectURIError{URI: raw}
}

// Validate checks a NewApp and returns it trimmed.
func Validate(n NewApp) (NewApp, error) {
	n.Name = strings.TrimSpace(n.Name)
	n.Kind = strings.TrimSpace(n.Kind)
	n.NewUserPolicy = strings.TrimSpace(n.NewUserPolicy)
	if n.Name == "" || utf8.RuneCountInString(n.Name) > MaxNameLength {
		return n, ErrInvalidName
	}
	if !slices.Contains(Kinds, n.Kind) {
		return n, ErrInvalidKind
	}
	if n.NewUserPolicy != "" && !slices.Contains(NewUserPolicies, n.NewUserPolicy) {
		return n, ErrInvalidNewUserPolicy
	}
	if len(n.RedirectURIs) > 0 && n.Kind != store.AppWeb {
		return n, ErrRedirectNotWeb
	}
	uris := make([]string, 0, len(n.RedirectURIs))
	for _, raw := range n.RedirectURIs {
		raw = strings.TrimSpace(raw)
		if err := ValidateRedirectURI(raw); err != nil {
			return n, err
		}
		if !slices.Contains(uris, raw) {
			uris = append(uris, raw)
		}
	}
	n.RedirectURIs = uris
	if len(n.Grants) > 0 && n.Kind != store.AppAdminAPI {
		return n, ErrGrantsNotAdminAPI
	}
	var grants []string
	for _, g := range n.Grants {
		g = strings.TrimSpace(g)
		if !slices.Contains(store.Grants, g) {
			return n, ErrInvalidGrant
		}
		if !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	n.Grants = grants
	return n, nil
}

// Create validates n and creates the application, its own policy when n
// asks for one, and their audit records, in one transaction. The secret is
// returned in clear only here; the database holds it sealed.
func (s *Service) Create(ctx context.Context, n NewApp, who audit.Who) (Created, error) {
	n, err := Validate(n)
	if err != nil {
		return Created{}, err
	}
	now := s.Clock.Now()
	clientSecret := secret.NewKey(ClientSecretLength)
	a := store.Application{
		Key: secret.NewID("DA", 20), Name: n.Name, Kind: n.Kind,
		ClientID:              secret.NewID("DI", ClientIDLength),
		UsernameNormalization: store.NormalizeSimple,
		RedirectURIs:          n.RedirectURIs,
		AdminGrants:           n.Grants,
		CreatedAt:             now, UpdatedAt: now,
	}
	a.ClientSecret = s.Box.Seal([]byte(clientSecret), secretAAD(a.Key))
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if n.NewUserPolicy != "" {
			p := store.Policy{
				Key: secret.NewID("DO", 20), Name: fmt.Sprintf("%s (%s)", a.Name, a.Key),
				NewUserPolicy: n.NewUserPolicy, CreatedAt: now, UpdatedAt: now,
			}
			if err := q.CreatePolicy(ctx, &p); err != nil {
				return err
			}
			a.PolicyID = &p.ID
			if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.PolicyCreated, audit.TargetPolicy, p.Key,
				map[string]any{"name": p.Name, "new_user_policy": p.NewUserPolicy, "application": a.Key})); err != nil {
				return err
			}
		}
		if err := q.CreateApplication(ctx, &a); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.ApplicationCreated, audit.TargetApplication, a.Key,
			map[string]any{"name": a.Name, "kind": a.Kind, "client_id": a.ClientID,
				"new_user_policy": n.NewUserPolicy, "redirect_uris": a.RedirectURIs, "grants": a.AdminGrants}))
	})
	if err != nil {
		return Created{}, fmt.Errorf("apps: create: %w", err)
	}
	return Created{App: a, ClientID: a.ClientID, ClientSecret: clientSecret}, nil
}

// Secret opens the application's client secret or secret key.
func (s *Service) Secret(a store.Application) (string, error) {
	plain, err := s.Box.Open(a.ClientSecret, secretAAD(a.Key))
	if err != nil {
		return "", fmt.Errorf("apps: open secret of %s: %w", a.Key, err)
	}
	return string(plain), nil
}

// ByClientID finds the application of a client_id or ikey. It returns
// ErrNotFound for an unknown one, including one of a malformed shape, which
// is refused before touching the database.
func (s *Service) ByClientID(ctx context.Context, clientID string) (store.Application, error) {
	if len(clientID) != ClientIDLength {
		return store.Application{}, ErrNotFound
	}
	a, err := s.Store.ApplicationByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("apps: by client id: %w", err)
	}
	return a, nil
}
