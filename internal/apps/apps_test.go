package apps_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestCreateWebApplication(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, err := p.Apps.Create(ctx, apps.NewApp{Name: " Wiki ", Kind: "web", NewUserPolicy: "allow",
		RedirectURIs: []string{"https://wiki.example.org/duo/callback", "http://localhost:3000/cb", "http://127.0.0.1/cb"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^DI[A-Z0-9]{18}$`).MatchString(c.ClientID) {
		t.Errorf("client_id %q is not DI + 18 upper-case letters and digits", c.ClientID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(c.ClientSecret) {
		t.Errorf("client_secret %q is not 40 letters and digits", c.ClientSecret)
	}
	got, err := p.Apps.ByClientID(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Wiki" || got.Kind != store.AppWeb || len(got.RedirectURIs) != 3 {
		t.Errorf("stored application = %+v", got)
	}
	if string(got.ClientSecret) == c.ClientSecret || len(got.ClientSecret) < 40 {
		t.Error("the secret is not sealed at rest")
	}
	plain, err := p.Apps.Secret(got)
	if err != nil || plain != c.ClientSecret {
		t.Errorf("Secret = %q, %v; want the created secret", plain, err)
	}
	// A sealed secret copied onto another application does not open.
	other := got
	other.Key = "DAOTHER00000000000000"
	if _, err := p.Apps.Secret(other); err == nil {
		t.Error("a secret sealed for one application opened for another")
	}
	if got.PolicyID == nil {
		t.Fatal("--new-user-policy did not give the application a policy")
	}
	pol, err := p.Store.PolicyByID(ctx, *got.PolicyID)
	if err != nil {
		t.Fatal(err)
	}
	if pol.IsGlobal || pol.NewUserPolicy != store.NewUserAllow || pol.EnrollMethods != nil {
		t.Errorf("application policy = %+v, want a non-global allow policy inheriting the rest", pol)
	}
	appAudit, err := p.Store.AuditForTarget(ctx, audit.TargetApplication, got.Key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(appAudit) != 1 || appAudit[0].Action != audit.ApplicationCreated || appAudit[0].ActorType != audit.ActorCLI {
		t.Errorf("audit of the application = %+v, want one %s by the CLI", appAudit, audit.ApplicationCreated)
	}
	polAudit, err := p.Store.AuditForTarget(ctx, audit.TargetPolicy, pol.Key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(polAudit) != 1 || polAudit[0].Action != audit.PolicyCreated {
		t.Errorf("audit of the policy = %+v, want one %s", polAudit, audit.PolicyCreated)
	}
}

func TestCreateRejectsBadInputAndChangesNothing(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	tests := []struct {
		name string
		n    apps.NewApp
		want error
	}{
		{"no name", apps.NewApp{Name: "  ", Kind: "unix"}, apps.ErrInvalidName},
		{"unknown kind", apps.NewApp{Name: "X", Kind: "saml"}, apps.ErrInvalidKind},
		{"unknown new user policy", apps.NewApp{Name: "X", Kind: "unix", NewUserPolicy: "maybe"}, apps.ErrInvalidNewUserPolicy},
		{"redirect URI on a unix app", apps.NewApp{Name: "X", Kind: "unix", RedirectURIs: []string{"https://a.example/cb"}}, apps.ErrRedirectNotWeb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Apps.Create(ctx, tt.n, audit.CLI()); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	for _, uri := range []string{"http://wiki.example.org/cb", "/relative/cb", "https://", "https://a.example/cb#frag",
		"javascript:alert(1)", "ftp://a.example/cb", "https://user:pw@a.example/cb", "http://localhost.evil.example/cb"} {
		t.Run("redirect "+uri, func(t *testing.T) {
			_, err := p.Apps.Create(ctx, apps.NewApp{Name: "Web", Kind: "web", RedirectURIs: []string{uri}}, audit.CLI())
			var bad *apps.InvalidRedirectURIError
			if !errors.As(err, &bad) || bad.URI != uri {
				t.Errorf("err = %v, want an InvalidRedirectURIError for %q", err, uri)
			}
		})
	}
	all, err := p.Store.Applications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("rejected input created %d applications", len(all))
	}
	if _, err := p.Apps.ByClientID(ctx, "DI0000000000000000000"); !errors.Is(err, apps.ErrNotFound) {
		t.Errorf("ByClientID(malformed) = %v", err)
	}
	if _, err := p.Apps.ByClientID(ctx, "DI000000000000000000"); !errors.Is(err, apps.ErrNotFound) {
		t.Errorf("ByClientID(unknown) = %v", err)
	}
}
