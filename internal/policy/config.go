package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"enrollportal/internal/store"
)

// Config is every setting that decides access: the policies, the
// applications (their policy and permitted groups) and the group overrides.
// The impact of a change is the difference between evaluating every user
// under two Configs.
type Config struct {
	Global   store.Policy
	Policies map[int64]store.Policy // every policy by id, the global one too
	Apps     []store.Application    // by name
	// Overrides are each application's group overrides, by priority.
	Overrides map[int64][]store.GroupPolicy
	Groups    []store.Group // by name, to name groups on pages
}

// LoadConfig reads the whole access configuration in a few queries.
func (s *Service) LoadConfig(ctx context.Context) (Config, error) {
	return loadConfig(ctx, s.Store)
}

// configReader reads the access configuration.
type configReader interface {
	store.PolicyQueries
	store.ApplicationQueries
	store.GroupQueries
	store.AccessQueries
}

// loadConfig reads the configuration through q, which may be a transaction.
func loadConfig(ctx context.Context, q configReader) (Config, error) {
	c := Config{Policies: map[int64]store.Policy{}, Overrides: map[int64][]store.GroupPolicy{}}
	pols, err := q.Policies(ctx)
	if err != nil {
		return c, fmt.Errorf("policy: load policies: %w", err)
	}
	for _, p := range pols {
		c.Policies[p.ID] = p
		if p.IsGlobal {
			c.Global = p
		}
	}
	if c.Apps, err = q.Applications(ctx); err != nil {
		return c, fmt.Errorf("policy: load applications: %w", err)
	}
	gps, err := q.AllGroupPolicies(ctx)
	if err != nil {
		return c, fmt.Errorf("policy: load group overrides: %w", err)
	}
	for _, gp := range gps {
		c.Overrides[gp.ApplicationID] = append(c.Overrides[gp.ApplicationID], gp)
	}
	if c.Groups, err = q.Groups(ctx); err != nil {
		return c, fmt.Errorf("policy: load groups: %w", err)
	}
	return c, nil
}

// Clone copies c deeply enough that a change applied to the copy leaves c
// as it was.
func (c Config) Clone() Config {
	out := c
	out.Policies = maps.Clone(c.Policies)
	out.Apps = slices.Clone(c.Apps)
	for i, a := range out.Apps {
		out.Apps[i].PermittedGroups = slices.Clone(a.PermittedGroups)
	}
	out.Overrides = map[int64][]store.GroupPolicy{}
	for k, v := range c.Overrides {
		out.Overrides[k] = slices.Clone(v)
	}
	return out
}

// App finds an application by id.
func (c Config) App(id int64) (store.Application, bool) {
	for _, a := range c.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return store.Application{}, false
}

// Group finds a group by id.
func (c Config) Group(id int64) (store.Group, bool) {
	for _, g := range c.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return store.Group{}, false
}

// Effective merges the policies that apply to a member of groups in app,
// as Service.EffectiveFor does at login, and says where each value comes
// from and which override (if any) applied.
func (c Config) Effective(app store.Application, groups []int64) (Effective, Sources, *store.GroupPolicy) {
	var appPolicy, groupPolicy *store.Policy
	if app.PolicyID != nil {
		if p, ok := c.Policies[*app.PolicyID]; ok {
			appPolicy = &p
		}
	}
	var applied *store.GroupPolicy
	if gp, ok := OverrideFor(c.Overrides[app.ID], groups); ok {
		if p, ok := c.Policies[gp.PolicyID]; ok {
			groupPolicy, applied = &p, &gp
		}
	}
	e, src := ResolveWithSources(c.Global, appPolicy, groupPolicy)
	return e, src, applied
}

// Uses lists where policy id is used: applications that take it as their
// policy, and group overrides that apply it.
func (c Config) Uses(id int64) []string {
	var out []string
	for _, a := range c.Apps {
		if a.PolicyID != nil && *a.PolicyID == id {
			out = append(out, "the policy of "+a.Name)
		}
		for _, gp := range c.Overrides[a.ID] {
			if gp.PolicyID == id {
				g, _ := c.Group(gp.GroupID)
				out = append(out, "members of "+g.Name+" in "+a.Name)
			}
		}
	}
	return out
}

// Version is a digest of the configuration: a preview shown under one
// version is applied only if the configuration is still that version.
func (c Config) Version() string {
	h := sha256.New()
	for _, id := range slices.Sorted(maps.Keys(c.Policies)) {
		p := c.Policies[id]
		fmt.Fprintf(h, "p%d|%s|%q|%q|%q|%q|%v%v%v\n", p.ID, p.Name, p.NewUserPolicy, p.DeniedCountries, p.EnrollMethods, p.AuthMethods,
			p.DeniedCountries == nil, p.EnrollMethods == nil, p.AuthMethods == nil)
	}
	for _, a := range c.Apps {
		pid := int64(0)
		if a.PolicyID != nil {
			pid = *a.PolicyID
		}
		fmt.Fprintf(h, "a%d|%d|%v|%v|%v\n", a.ID, pid, a.GroupsRestricted, a.PermittedGroups, c.Overrides[a.ID])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
