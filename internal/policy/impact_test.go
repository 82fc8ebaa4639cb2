package policy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// decisions is every user's login decision in the fixture's application,
// through the login path (DecideLogin).
func decisions(t *testing.T, f fixture) map[string]string {
	t.Helper()
	ctx := context.Background()
	app, err := f.p.Store.ApplicationByID(ctx, f.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range []string{"pat", "carl", "erin"} {
		l, err := f.p.Policy.DecideLogin(ctx, app, name, net.ParseIP("198.51.100.7"))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = l.Result
	}
	return out
}

// TestImpactAgreesWithLogins previews a change, applies it, and checks that
// the users the preview named are exactly those whose login decision moved.
func TestImpactAgreesWithLogins(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	ch := policy.Change{Kind: policy.ChangeAppGroups, AppID: f.app.ID, Restricted: true, Groups: []int64{f.vpnTeam.ID}}
	im, _, err := f.p.Policy.Preview(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range im.Apps {
		for _, m := range a.Moves {
			got = append(got, m.Summary(a.App.Name)+" "+strings.Join(m.Names, ","))
		}
	}
	slices.Sort(got)
	want := []string{
		"1 user of VPN: auth -> deny (not in permitted groups) erin",
		"1 user of VPN: enroll -> deny (not in permitted groups) pat",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || im.Users != 3 || im.Moved() != 2 {
		t.Fatalf("impact %q (users %d, moved %d), want %q", got, im.Users, im.Moved(), want)
	}
	if len(im.NewUsers) != 1 || im.NewUsers[0].From != "allow" || im.NewUsers[0].To != "deny" {
		t.Fatalf("new users %+v", im.NewUsers)
	}
	var rows []string
	if err := f.p.Policy.PreviewRows(ctx, ch, func(r policy.ImpactRow) error {
		rows = append(rows, r.Username+":"+r.From+">"+r.To)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	before := decisions(t, f)
	if err := f.p.Policy.Apply(ctx, ch, im.Version, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	after := decisions(t, f)
	var moved []string
	for _, name := range []string{"erin", "pat", "carl"} {
		if before[name] != after[name] {
			moved = append(moved, name+":"+before[name]+">"+after[name])
		}
	}
	slices.Sort(moved)
	if fmt.Sprint(rows) != fmt.Sprint(moved) {
		t.Fatalf("CSV rows %v, logins moved %v", rows, moved)
	}
	entries, err := f.p.Store.SearchAudit(ctx, store.AuditFilter{Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Action != audit.ApplicationGroupsSet ||
		!strings.Contains(entries[0].Details, `"before":{"groups":[],"restricted":false}`) ||
		!strings.Contains(entries[0].Details, `"after":{"groups":["contractors"],"restricted":true}`) {
		t.Fatalf("audit %+v %v", entries, err)
	}
}

func TestApplyRefusesAStalePreviewAndChangesNothing(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	im, _, err := f.p.Policy.Preview(ctx, policy.Change{Kind: policy.ChangeAppPolicy, AppID: f.app.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Someone else restricts the application meanwhile.
	other := policy.Change{Kind: policy.ChangeAppGroups, AppID: f.app.ID, Restricted: true, Groups: []int64{f.vpnTeam.ID}}
	if err := f.p.Policy.Apply(ctx, other, im.Version, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	err = f.p.Policy.Apply(ctx, policy.Change{Kind: policy.ChangeAppPolicy, AppID: f.app.ID}, im.Version, audit.CLI())
	if !errors.Is(err, policy.ErrConfigChanged) {
		t.Fatalf("stale apply: %v", err)
	}
	app, _ := f.p.Store.ApplicationByID(ctx, f.app.ID)
	if app.PolicyID == nil {
		t.Fatal("a refused apply changed the application's policy")
	}
}

func TestChangeValidationNamesTheField(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	global, _ := f.p.Store.GlobalPolicy(ctx)
	bad := global
	bad.NewUserPolicy, bad.DeniedCountries, bad.AuthMethods = "sometimes", []string{"XX"}, []string{}
	tests := []struct {
		name  string
		ch    policy.Change
		field string
		want  error
	}{
		{"bad new user policy", policy.Change{Kind: policy.ChangePolicy, Policy: bad}, "new_user_policy", policy.ErrNewUserPolicy},
		{"unknown country", policy.Change{Kind: policy.ChangePolicy, Policy: bad}, "denied_countries", policy.ErrCountry},
		{"no auth method", policy.Change{Kind: policy.ChangePolicy, Policy: bad}, "auth_methods", policy.ErrNoAuthMethod},
		{"restricted to no group", policy.Change{Kind: policy.ChangeAppGroups, AppID: f.app.ID, Restricted: true}, "groups", policy.ErrNoGroups},
		{"unknown group", policy.Change{Kind: policy.ChangeAppGroups, AppID: f.app.ID, Restricted: true, Groups: []int64{999}}, "groups", policy.ErrNoSuchGroup},
		{"global as an application policy", policy.Change{Kind: policy.ChangeAppPolicy, AppID: f.app.ID, PolicyID: &global.ID}, "policy", policy.ErrNoSuchPolicy},
		{"override without policy", policy.Change{Kind: policy.ChangeOverride, AppID: f.app.ID, GroupID: f.vpnTeam.ID}, "override_policy", policy.ErrNoSuchPolicy},
		{"remove a missing override", policy.Change{Kind: policy.ChangeOverrideRemove, AppID: f.app.ID, GroupID: 999}, "group", policy.ErrNoOverride},
		{"unknown application", policy.Change{Kind: policy.ChangeAppPolicy, AppID: 999}, "application", policy.ErrNoSuchApp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, _, err := f.p.Policy.Preview(ctx, tt.ch)
			var fe policy.FieldErrors
			if !errors.As(err, &fe) || !errors.Is(fe[tt.field], tt.want) {
				t.Fatalf("preview: %v", err)
			}
			before, _ := f.p.Policy.LoadConfig(ctx)
			if err := f.p.Policy.Apply(ctx, tt.ch, before.Version(), audit.CLI()); !errors.As(err, &fe) {
				t.Fatalf("apply: %v", err)
			}
			after, _ := f.p.Policy.LoadConfig(ctx)
			if before.Version() != after.Version() || im.Version != "" {
				t.Fatal("a refused change changed the configuration")
			}
		})
	}
}

func TestDeletePolicyRefusedWhileInUse(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	cfg, _ := f.p.Policy.LoadConfig(ctx)
	_, err := f.p.Policy.DeletePolicy(ctx, *f.app.PolicyID, audit.CLI())
	var inUse policy.InUseError
	if !errors.As(err, &inUse) || fmt.Sprint(inUse.Uses) != "[the policy of VPN]" {
		t.Fatalf("delete in use: %v", err)
	}
	p, err := f.p.Policy.CreatePolicy(ctx, store.Policy{Name: " Spare ", AuthMethods: []string{store.MethodSecurityKey}}, audit.CLI())
	if err != nil || p.Name != "Spare" {
		t.Fatalf("create: %+v %v", p, err)
	}
	if _, err := f.p.Policy.CreatePolicy(ctx, store.Policy{Name: "spare"}, audit.CLI()); !errors.Is(err.(policy.FieldErrors)["name"], policy.ErrPolicyNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := f.p.Policy.DeletePolicy(ctx, p.ID, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Policy.DeletePolicy(ctx, cfg.Global.ID, audit.CLI()); !errors.Is(err, policy.ErrGlobalNotDeleted) {
		t.Fatalf("delete global: %v", err)
	}
}

func TestCheckAccessSaysWhichLevelDecided(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	tests := []struct {
		user, country   string
		result, level   string
		overrideApplies bool
	}{
		{"pat", "", "enroll", policy.LevelApplication, false},
		{"carl", "", "deny", policy.LevelGroup, true},
		{"erin", "DE", "auth", policy.LevelGlobal, false},
		{"erin", "KP", "deny", policy.LevelApplication, false},
		{"nobody", "", "allow", policy.LevelApplication, false},
	}
	for _, tt := range tests {
		c, err := f.p.Policy.CheckAccess(ctx, tt.user, f.app.ID, tt.country)
		if err != nil {
			t.Fatal(err)
		}
		if c.Decision.Result != tt.result || c.Level != tt.level || (c.Override != nil) != tt.overrideApplies {
			t.Errorf("%s from %q: %s at %s (override %v), want %s at %s", tt.user, tt.country, c.Decision.Result, c.Level, c.Override, tt.result, tt.level)
		}
	}
	_, err := f.p.Policy.CheckAccess(ctx, " ", 999, "XX")
	var fe policy.FieldErrors
	if !errors.As(err, &fe) || fe["username"] == nil || fe["application"] == nil || fe["country"] == nil {
		t.Fatalf("bad check: %v", err)
	}
}
