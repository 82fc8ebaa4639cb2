package apps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

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

// Store is what the applications service uses of the database.
type Store interface {
	store.Transactor
	store.ApplicationQueries
	store.AuditQueries
}

// Service creates, reads, changes and deletes applications, and keeps
// their last use.
type Service struct {
	Store Store
	Clock clock.Clock
	Box   *secret.Box
	// StepUp checks the code an admin types before a secret is shown again
	// (admin.Service).
	StepUp StepUp

	usage usage
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

// CheckNew trims n and returns the problem of each field ("name", "kind",
// "new_user_policy", "redirect_uris"), as the add page shows them.
func CheckNew(n NewApp) (NewApp, map[string]error) {
	problems := map[string]error{}
	n.Name = strings.TrimSpace(n.Name)
	n.Kind = strings.TrimSpace(n.Kind)
	n.NewUserPolicy = strings.TrimSpace(n.NewUserPolicy)
	if err := checkName(n.Name); err != nil {
		problems["name"] = err
	}
	if !slices.Contains(Kinds, n.Kind) {
		problems["kind"] = ErrInvalidKind
	}
	if n.NewUserPolicy != "" && !slices.Contains(NewUserPolicies, n.NewUserPolicy) {
		problems["new_user_policy"] = ErrInvalidNewUserPolicy
	}
	uris, err := checkRedirectURIs(n.Kind, n.RedirectURIs)
	if err != nil {
		problems["redirect_uris"] = err
	}
	n.RedirectURIs = uris
	grants, err := checkGrants(n.Kind, n.Grants)
	if err != nil {
		problems["grants"] = err
	}
	n.Grants = grants
	return n, problems
}

// Validate checks a NewApp and returns it trimmed, with the first problem
// in the order of `portal apps add`'s flags.
func Validate(n NewApp) (NewApp, error) {
	n, problems := CheckNew(n)
	for _, field := range []string{"name", "kind", "new_user_policy", "redirect_uris", "grants"} {
		if err := problems[field]; err != nil {
			return n, err
		}
	}
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

// checkGrants checks the Admin API grants of an application of kind and
// returns them without repeats.
func checkGrants(kind string, raw []string) ([]string, error) {
	if len(raw) > 0 && kind != store.AppAdminAPI {
		return nil, ErrGrantsNotAdminAPI
	}
	var grants []string
	for _, g := range raw {
		g = strings.TrimSpace(g)
		if !slices.Contains(store.Grants, g) {
			return nil, ErrInvalidGrant
		}
		if !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	return grants, nil
}
