package apps_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestUpdateChangesOnlyWhatItSaysAndAuditsBeforeAndAfter(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, err := p.Apps.Create(ctx, apps.NewApp{Name: "Wiki", Kind: "web", RedirectURIs: []string{"https://wiki.example.org/cb"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	// Warm the cache the login paths read, so that the update must empty it.
	if _, err := p.Apps.ByClientID(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	got, err := p.Apps.Update(ctx, c.App.Key, apps.Edit{Name: " Team wiki ", UsernameNormalization: "none",
		RedirectURIs: []string{"https://wiki.example.org/cb2", "https://wiki.example.org/cb2"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Apps.ByClientID(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.Application{got, again} {
		if a.Name != "Team wiki" || a.UsernameNormalization != store.NormalizeNone || len(a.RedirectURIs) != 1 || a.RedirectURIs[0] != "https://wiki.example.org/cb2" {
			t.Errorf("after the update: %+v", a)
		}
	}
	entries, err := p.Store.AuditForTarget(ctx, audit.TargetApplication, c.App.Key, 10)
	if err != nil || len(entries) != 2 || entries[0].Action != audit.ApplicationUpdated {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	for _, want := range []string{`"before":{"name":"Wiki","redirect_uris":["https://wiki.example.org/cb"],"username_normalization":"simple"}`,
		`"after":{"name":"Team wiki","redirect_uris":["https://wiki.example.org/cb2"],"username_normalization":"none"}`} {
		if !contains(entries[0].Details, want) {
			t.Errorf("audit details %s lack %s", entries[0].Details, want)
		}
	}

	// The same values again write nothing.
	if _, err := p.Apps.Update(ctx, c.App.Key, apps.Edit{Name: "Team wiki", UsernameNormalization: "none",
		RedirectURIs: []string{"https://wiki.example.org/cb2"}}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if entries, _ := p.Store.AuditForTarget(ctx, audit.TargetApplication, c.App.Key, 10); len(entries) != 2 {
		t.Errorf("an edit that changed nothing wrote %d audit records", len(entries)-2)
	}

	// Invalid input names each field and changes nothing.
	_, err = p.Apps.Update(ctx, c.App.Key, apps.Edit{Name: "", UsernameNormalization: "upper",
		RedirectURIs: []string{"http://wiki.example.org/cb"}}, audit.CLI())
	var invalid *apps.InvalidEditError
	if !errors.As(err, &invalid) || len(invalid.Problems) != 3 {
		t.Fatalf("err = %v, want problems with name, redirect URIs and normalization", err)
	}
	if a, _ := p.Apps.ByKey(ctx, c.App.Key); a.Name != "Team wiki" {
		t.Errorf("a refused edit changed the application: %+v", a)
	}
	unix, err := p.Apps.Create(ctx, apps.NewApp{Name: "SSH", Kind: "unix"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Apps.Update(ctx, unix.App.Key, apps.Edit{Name: "SSH", UsernameNormalization: "simple", RedirectURIs: []string{"https://a.example/cb"}}, audit.CLI())
	if !errors.As(err, &invalid) || !errors.Is(invalid.Problems["redirect_uris"], apps.ErrRedirectNotWeb) {
		t.Errorf("redirect URIs on a unix application: %v", err)
	}
	if _, err := p.Apps.Update(ctx, "DANOSUCH", apps.Edit{Name: "X", UsernameNormalization: "none"}, audit.CLI()); !errors.Is(err, apps.ErrNotFound) {
		t.Errorf("update of an unknown application: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestRotateReplacesTheSecretAtOnce(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, err := p.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: "auth-api"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apps.ByClientID(ctx, c.ClientID); err != nil { // cached
		t.Fatal(err)
	}
	r, err := p.Apps.Rotate(ctx, c.App.Key, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientSecret == c.ClientSecret || len(r.ClientSecret) != apps.ClientSecretLength || r.ClientID != c.ClientID {
		t.Fatalf("rotated = %+v", r)
	}
	a, err := p.Apps.ByClientID(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := p.Apps.Secret(a); err != nil || plain != r.ClientSecret {
		t.Errorf("the login path opens %q, %v; want the new secret", plain, err)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetApplication, c.App.Key, 10)
	if len(entries) != 2 || entries[0].Action != audit.ApplicationSecretRotated || contains(entries[0].Details, r.ClientSecret) || contains(entries[0].Details, c.ClientSecret) {
		t.Errorf("audit = %+v", entries)
	}
}

func TestRevealNeedsACurrentCodeFromTheAdminsOwnApp(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, err := p.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: "unix"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	owner := p.AddAdmin(t, admin.RoleOwner)
	other := p.AddAdmin(t, admin.RoleAdministrator)
	p.Clock.Advance(30 * time.Second)
	if _, err := p.Apps.Reveal(ctx, c.App.Key, owner.Admin, other.Code(t, p.Clock.Now()), "192.0.2.1"); !errors.Is(err, admin.ErrBadCode) {
		t.Fatalf("another admin's code: %v, want ErrBadCode", err)
	}
	p.Clock.Advance(5 * time.Second) // past the slowdown of one wrong code
	code := owner.Code(t, p.Clock.Now())
	got, err := p.Apps.Reveal(ctx, c.App.Key, owner.Admin, code, "192.0.2.1")
	if err != nil || got.ClientSecret != c.ClientSecret {
		t.Fatalf("reveal = %+v, %v", got, err)
	}
	fresh, _ := p.Store.AdminByID(ctx, owner.ID)
	if _, err := p.Apps.Reveal(ctx, c.App.Key, fresh, code, "192.0.2.1"); !errors.Is(err, admin.ErrBadCode) {
		t.Errorf("the same code twice: %v, want ErrBadCode", err)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetApplication, c.App.Key, 10)
	if len(entries) != 2 || entries[0].Action != audit.ApplicationSecretRevealed || entries[0].Actor != owner.Email || contains(entries[0].Details, c.ClientSecret) {
		t.Errorf("audit = %+v", entries)
	}
}

func TestDeleteTakesCodesAndTransactionsWithIt(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, err := p.Apps.Create(ctx, apps.NewApp{Name: "Payroll", Kind: "web", NewUserPolicy: "deny", RedirectURIs: []string{"https://pay.example.org/cb"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	now := p.Clock.Now()
	if err := p.Store.CreateAuthTransaction(ctx, &store.AuthTransaction{TxID: "tx-1", ApplicationID: c.App.ID, Result: "allow", Status: "allow", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.CreateOAuthCode(ctx, &store.OAuthCode{CodeHash: []byte("hash-1"), ApplicationID: c.App.ID, RedirectURI: "https://pay.example.org/cb", Username: "pat", Result: "allow", Outcome: "{}", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apps.ByClientID(ctx, c.ClientID); err != nil { // cached
		t.Fatal(err)
	}
	if _, err := p.Apps.DeleteNamed(ctx, c.App.Key, "payroll", audit.CLI()); !errors.Is(err, apps.ErrNameMismatch) {
		t.Fatalf("wrong name: %v", err)
	}
	if _, err := p.Apps.ByKey(ctx, c.App.Key); err != nil {
		t.Fatalf("a refused delete deleted: %v", err)
	}
	if _, err := p.Apps.DeleteNamed(ctx, c.App.Key, " Payroll ", audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apps.ByClientID(ctx, c.ClientID); !errors.Is(err, apps.ErrNotFound) {
		t.Errorf("the login path still finds the deleted application: %v", err)
	}
	if _, err := p.Store.AuthTransactionByTxID(ctx, c.App.ID, "tx-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("its Auth API transaction: %v", err)
	}
	if _, err := p.Store.OAuthCodeByHash(ctx, []byte("hash-1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("its authorization code: %v", err)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetApplication, c.App.Key, 10)
	if len(entries) != 2 || entries[0].Action != audit.ApplicationDeleted || !contains(entries[0].Details, `"name":"Payroll"`) {
		t.Errorf("audit = %+v", entries)
	}
	if _, err := p.Apps.Delete(ctx, c.App.Key, audit.CLI()); !errors.Is(err, apps.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestLastUseIsKeptInMemoryUntilFlushed(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	g := store.Group{Key: "DGSTAFF0000000000000", Name: "Staff", CreatedAt: p.Clock.Now()}
	if err := p.Store.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	a, err := p.Apps.Create(ctx, apps.NewApp{Name: "Alpha", Kind: "unix", NewUserPolicy: "allow"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Apps.Create(ctx, apps.NewApp{Name: "Beta", Kind: "web", RedirectURIs: []string{"https://b.example/cb"}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	first := p.Clock.Now()
	p.Apps.Used(a.App)
	p.Clock.Advance(time.Minute)
	p.Apps.Used(a.App)
	stored, err := p.Store.ApplicationSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stored[0].LastUsedAt != nil {
		t.Fatalf("a use was written before the flush: %v", stored[0].LastUsedAt)
	}
	list, err := p.Apps.Summaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "Alpha" || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(first.Add(time.Minute)) || list[1].LastUsedAt != nil {
		t.Fatalf("summaries before the flush = %+v", list)
	}
	if list[0].Inherits() || list[0].PolicyNewUser != "allow" || !list[1].Inherits() || list[1].RedirectURIs[0] != "https://b.example/cb" {
		t.Errorf("policies and redirect URIs in the list: %+v", list)
	}
	if err := p.Apps.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ = p.Store.ApplicationSummaries(ctx)
	if stored[0].LastUsedAt == nil || !stored[0].LastUsedAt.Equal(first.Add(time.Minute)) {
		t.Fatalf("after the flush the database holds %v", stored[0].LastUsedAt)
	}
	// An older time flushed later never moves the stored one back.
	if err := p.Store.RecordApplicationUse(ctx, map[int64]time.Time{a.App.ID: first, b.App.ID: first}); err != nil {
		t.Fatal(err)
	}
	stored, _ = p.Store.ApplicationSummaries(ctx)
	if !stored[0].LastUsedAt.Equal(first.Add(time.Minute)) || stored[1].LastUsedAt == nil || !stored[1].LastUsedAt.Equal(first) {
		t.Errorf("after an older flush: %v, %v", stored[0].LastUsedAt, stored[1].LastUsedAt)
	}
}
