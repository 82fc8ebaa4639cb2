package apps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// StepUp checks a current code from an admin's own second factor; each code
// works once, and a wrong one counts towards the admin's sign-in slowdown.
type StepUp interface {
	VerifyTOTP(ctx context.Context, a store.Admin, code, ip string) error
}

// Normalizations lists the username normalization modes, as offered.
var Normalizations = []string{store.NormalizeSimple, store.NormalizeNone}

// More errors with a sentence a person can act on.
var (
	ErrInvalidNormalization = errors.New("username normalization must be none or simple")
	ErrNameMismatch         = errors.New("the name typed is not the application's name; nothing was deleted")
	ErrNoStepUp             = errors.New("secrets cannot be shown again on this portal")
	// ErrNameNotOneLine keeps names printable one to a line (portal apps
	// list prints them tab-separated).
	ErrNameNotOneLine = errors.New("an application's name is one line of text, without tabs or other control characters")
)

// Summary is an application as the admin list shows it.
type Summary struct {
	store.ApplicationSummary
}

// Inherits reports whether the application uses the global policy.
func (s Summary) Inherits() bool { return s.PolicyID == nil }

// Summaries lists every application with its policy, permitted groups and
// last use (including uses not yet written to the database).
func (s *Service) Summaries(ctx context.Context) ([]Summary, error) {
	rows, err := s.Store.ApplicationSummaries(ctx)
	if err != nil {
		return nil, fmt.Errorf("apps: list: %w", err)
	}
	out := make([]Summary, len(rows))
	for i, r := range rows {
		r.LastUsedAt = s.lastUsed(r.ID, r.LastUsedAt)
		out[i] = Summary{r}
	}
	return out, nil
}

// SummaryByKey is the summary of the application of key, last use
// included; ErrNotFound when there is none.
func (s *Service) SummaryByKey(ctx context.Context, key string) (Summary, error) {
	r, err := s.Store.ApplicationSummaryByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return Summary{}, ErrNotFound
	}
	if err != nil {
		return Summary{}, fmt.Errorf("apps: summary: %w", err)
	}
	r.LastUsedAt = s.lastUsed(r.ID, r.LastUsedAt)
	return Summary{r}, nil
}

// appByKey reads the application of key through q, ErrNotFound when there
// is none.
func appByKey(ctx context.Context, q store.ApplicationQueries, key string) (store.Application, error) {
	a, err := q.ApplicationByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return a, ErrNotFound
	}
	return a, err
}

// ByKey finds the application of a public id ("DA..."); ErrNotFound when
// there is none.
func (s *Service) ByKey(ctx context.Context, key string) (store.Application, error) {
	a, err := appByKey(ctx, s.Store, key)
	if errors.Is(err, ErrNotFound) {
		return a, err
	}
	if err != nil {
		return a, fmt.Errorf("apps: by key: %w", err)
	}
	return a, nil
}

// SplitRedirectURIs reads redirect URIs typed one a line (or separated by
// spaces), dropping blank ones.
func SplitRedirectURIs(typed string) []string { return strings.Fields(typed) }

// checkName returns the problem with an application's name, if any.
func checkName(name string) error {
	if err := text.Check("name", name); err != nil {
		return err
	}
	if name == "" || utf8.RuneCountInString(name) > MaxNameLength {
		return ErrInvalidName
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return ErrNameNotOneLine
	}
	return nil
}

// checkRedirectURIs validates and de-duplicates the redirect URIs of an
// application of kind.
func checkRedirectURIs(kind string, raw []string) ([]string, error) {
	if len(raw) > 0 && kind != store.AppWeb {
		return nil, ErrRedirectNotWeb
	}
	uris := make([]string, 0, len(raw))
	for _, u := range raw {
		u = strings.TrimSpace(u)
		if err := ValidateRedirectURI(u); err != nil {
			return nil, err
		}
		if !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	return uris, nil
}

// Edit is what the edit page changes.
type Edit struct {
	Name                  string
	RedirectURIs          []string
	UsernameNormalization string
}

// CheckEdit trims e and returns the problem of each field
// ("name", "redirect_uris", "username_normalization") for an application of
// kind.
func CheckEdit(kind string, e Edit) (Edit, map[string]error) {
	problems := map[string]error{}
	e.Name = strings.TrimSpace(e.Name)
	e.UsernameNormalization = strings.TrimSpace(e.UsernameNormalization)
	if err := checkName(e.Name); err != nil {
		problems["name"] = err
	}
	uris, err := checkRedirectURIs(kind, e.RedirectURIs)
	if err != nil {
		problems["redirect_uris"] = err
	}
	e.RedirectURIs = uris
	if !slices.Contains(Normalizations, e.UsernameNormalization) {
		problems["username_normalization"] = ErrInvalidNormalization
	}
	return e, problems
}

// InvalidEditError carries the problem of each field of a refused edit.
type InvalidEditError struct{ Problems map[string]error }

func (e *InvalidEditError) Error() string {
	return fmt.Sprintf("apps: the edit has %d problems", len(e.Problems))
}

// Update applies e to the application of key, with an audit record of the
// before and after values of what changed, in one transaction. Invalid
// input is an *InvalidEditError (with the application as it stands) and
// changes nothing; an edit that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, key string, e Edit, who audit.Who) (store.Application, error) {
	var out store.Application
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		a, err := appByKey(ctx, q, key)
		if err != nil {
			return err
		}
		out = a
		e, problems := CheckEdit(a.Kind, e)
		if len(problems) > 0 {
			return &InvalidEditError{Problems: problems}
		}
		before, after := map[string]any{}, map[string]any{}
		if a.Name != e.Name {
			before["name"], after["name"] = a.Name, e.Name
		}
		if a.UsernameNormalization != e.UsernameNormalization {
			before["username_normalization"], after["username_normalization"] = a.UsernameNormalization, e.UsernameNormalization
		}
		if !sameSet(a.RedirectURIs, e.RedirectURIs) {
			before["redirect_uris"], after["redirect_uris"] = nonNil(a.RedirectURIs), e.RedirectURIs
		}
		if len(after) == 0 {
			return nil
		}
		now := s.Clock.Now()
		out.Name, out.UsernameNormalization, out.RedirectURIs, out.UpdatedAt = e.Name, e.UsernameNormalization, e.RedirectURIs, now
		if err := q.UpdateApplicationDetails(ctx, out); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.ApplicationUpdated, audit.TargetApplication, a.Key,
			map[string]any{"name": out.Name, "before": before, "after": after}))
	})
	var invalid *InvalidEditError
	if errors.Is(err, ErrNotFound) || errors.As(err, &invalid) {
		return out, err
	}
	if err != nil {
		return out, fmt.Errorf("apps: update: %w", err)
	}
	return out, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Rotate gives the application of key a new secret, shown only in what it
// returns; the old one stops working with the commit, on every path, as the
// application cache is emptied then.
func (s *Service) Rotate(ctx context.Context, key string, who audit.Who) (Created, error) {
	var out Created
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		a, err := appByKey(ctx, q, key)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		plain := secret.NewKey(ClientSecretLength)
		a.ClientSecret, a.UpdatedAt = s.Box.Seal([]byte(plain), secretAAD(a.Key)), now
		if err := q.SetApplicationSecret(ctx, a.ID, a.ClientSecret, now); err != nil {
			return err
		}
		out = Created{App: a, ClientID: a.ClientID, ClientSecret: plain}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.ApplicationSecretRotated, audit.TargetApplication, a.Key,
			map[string]any{"name": a.Name, "client_id": a.ClientID}))
	})
	if errors.Is(err, ErrNotFound) {
		return out, err
	}
	if err != nil {
		return out, fmt.Errorf("apps: rotate: %w", err)
	}
	return out, nil
}

// Reveal shows the secret of the application of key again, once actor has
// typed a current code from their own second factor (step-up). Every reveal
// is audited; a wrong code is refused with the admin package's error and
// counts towards the admin's slowdown.
func (s *Service) Reveal(ctx context.Context, key string, actor store.Admin, code, ip string) (Created, error) {
	if s.StepUp == nil {
		return Created{}, ErrNoStepUp
	}
	a, err := s.ByKey(ctx, key)
	if err != nil {
		return Created{}, err
	}
	if err := s.StepUp.VerifyTOTP(ctx, actor, code, ip); err != nil {
		return Created{}, err
	}
	plain, err := s.Secret(a)
	if err != nil {
		return Created{}, err
	}
	if err := s.Store.InsertAudit(ctx, audit.Entry(s.Clock.Now(), audit.Admin(actor.Email, ip), audit.ApplicationSecretRevealed,
		audit.TargetApplication, a.Key, map[string]any{"name": a.Name, "client_id": a.ClientID, "step_up": "totp"})); err != nil {
		return Created{}, fmt.Errorf("apps: reveal: %w", err)
	}
	return Created{App: a, ClientID: a.ClientID, ClientSecret: plain}, nil
}

// Delete deletes the application of key with its codes, transactions,
// redirect URIs, permitted groups and group overrides, and its audit
// record, in one transaction. Its own policy, if it has one, stays for the
// policies page to reuse or delete.
func (s *Service) Delete(ctx context.Context, key string, who audit.Who) (store.Application, error) {
	return s.deleteApp(ctx, key, nil, who)
}

// DeleteNamed is Delete for a person who confirmed by typing the
// application's name: another name is ErrNameMismatch and deletes nothing.
func (s *Service) DeleteNamed(ctx context.Context, key, typedName string, who audit.Who) (store.Application, error) {
	typedName = strings.TrimSpace(typedName)
	return s.deleteApp(ctx, key, func(a store.Application) error {
		if typedName != a.Name {
			return ErrNameMismatch
		}
		return nil
	}, who)
}

func (s *Service) deleteApp(ctx context.Context, key string, confirm func(store.Application) error, who audit.Who) (store.Application, error) {
	var gone store.Application
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		a, err := appByKey(ctx, q, key)
		if err != nil {
			return err
		}
		if confirm != nil {
			if err := confirm(a); err != nil {
				return err
			}
		}
		gone = a
		if err := q.DeleteApplication(ctx, a.ID); err != nil {
			return err
		}
		details := map[string]any{"name": a.Name, "kind": a.Kind, "client_id": a.ClientID,
			"redirect_uris": nonNil(a.RedirectURIs), "username_normalization": a.UsernameNormalization}
		if a.PolicyID != nil {
			details["policy_id"] = *a.PolicyID
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.ApplicationDeleted, audit.TargetApplication, a.Key, details))
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNameMismatch) {
		return gone, err
	}
	if err != nil {
		return gone, fmt.Errorf("apps: delete: %w", err)
	}
	s.usage.mu.Lock()
	delete(s.usage.pending, gone.ID)
	s.usage.mu.Unlock()
	return gone, nil
}
