package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// Kinds of change to access that are previewed before they are saved.
const (
	ChangePolicy         = "policy"          // the settings of the global or a named policy
	ChangeAppPolicy      = "app-policy"      // which policy an application takes
	ChangeAppGroups      = "app-groups"      // an application's permitted groups
	ChangeOverride       = "override"        // members of a group get a policy in an application
	ChangeOverrideRemove = "override-remove" // the end of such an override
)

// Methods lists the enrollment and authentication methods a policy may
// name, in the order pages offer them.
var Methods = []string{store.MethodAuthenticatorApp, store.MethodSecurityKey, store.MethodSMS, store.MethodHardwareToken}

// NewUserPolicies lists the values of the new user policy.
var NewUserPolicies = []string{store.NewUserRequireEnrollment, store.NewUserAllow, store.NewUserDeny}

// MaxPolicyName is the longest policy name accepted.
const MaxPolicyName = 100

// Errors of changes, for pages to show beside the field.
var (
	ErrPolicyName       = errors.New("give the policy a name of at most 100 characters")
	ErrPolicyNameTaken  = errors.New("another policy has this name")
	ErrNewUserPolicy    = errors.New("choose require-enrollment, allow or deny")
	ErrGlobalInherits   = errors.New("the global policy has no level above to inherit from: choose a value")
	ErrCountry          = errors.New("choose countries from the list")
	ErrMethod           = errors.New("choose methods from the list")
	ErrNoAuthMethod     = errors.New("choose at least one method, or inherit: with none nobody could sign in")
	ErrNoSuchPolicy     = errors.New("that policy no longer exists")
	ErrNoSuchApp        = errors.New("that application no longer exists")
	ErrNoSuchGroup      = errors.New("choose a group from the list")
	ErrNoGroups         = errors.New("choose at least one group, or let everyone use it")
	ErrNoOverride       = errors.New("members of that group have no policy of their own here")
	ErrPolicyInUse      = errors.New("the policy is in use")
	ErrGlobalNotDeleted = errors.New("the global policy cannot be deleted")
	// ErrConfigChanged: someone changed access settings between the
	// preview and the confirmation; the change must be previewed again.
	ErrConfigChanged = errors.New("the access settings changed since the preview")
)

// FieldErrors are problems with a change, by form field: nothing was saved.
type FieldErrors map[string]error

func (f FieldErrors) Error() string {
	var parts []string
	for k, v := range f {
		parts = append(parts, k+": "+v.Error())
	}
	slices.Sort(parts)
	return "policy: " + strings.Join(parts, "; ")
}

// Change is one proposed change to who gets what.
type Change struct {
	Kind string
	// Policy is the policy as it should be (ChangePolicy; ID set).
	Policy store.Policy
	AppID  int64
	// PolicyID is the application's new policy (ChangeAppPolicy, nil for
	// the global policy alone) or the override's (ChangeOverride).
	PolicyID *int64
	// Restricted and Groups are the permitted groups (ChangeAppGroups).
	Restricted bool
	Groups     []int64
	// GroupID is the group of an override.
	GroupID int64
}

// CheckPolicy validates a policy's settings. The global policy must set
// every setting; a named one may inherit any (empty or nil).
func CheckPolicy(p store.Policy) FieldErrors {
	errs := FieldErrors{}
	if !p.IsGlobal {
		if err := text.Check("policy name", p.Name); err != nil {
			errs["name"] = err
		} else if n := utf8.RuneCountInString(strings.TrimSpace(p.Name)); n == 0 || n > MaxPolicyName {
			errs["name"] = ErrPolicyName
		}
	}
	switch {
	case p.NewUserPolicy == "" && p.IsGlobal:
		errs["new_user_policy"] = ErrGlobalInherits
	case p.NewUserPolicy != "" && !slices.Contains(NewUserPolicies, p.NewUserPolicy):
		errs["new_user_policy"] = ErrNewUserPolicy
	}
	for _, c := range p.DeniedCountries {
		if !validCountry(c) {
			errs["denied_countries"] = ErrCountry
		}
	}
	for field, list := range map[string][]string{"enroll_methods": p.EnrollMethods, "auth_methods": p.AuthMethods} {
		switch {
		case list == nil && p.IsGlobal:
			errs[field] = ErrGlobalInherits
		case list != nil && len(list) == 0 && field == "auth_methods":
			errs[field] = ErrNoAuthMethod
		}
		for _, m := range list {
			if !slices.Contains(Methods, m) {
				errs[field] = ErrMethod
			}
		}
	}
	if p.IsGlobal && p.DeniedCountries == nil {
		errs["denied_countries"] = ErrGlobalInherits
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// applyTo makes the change to c, checking it against what c holds.
func (ch Change) applyTo(c *Config) error {
	idx := slices.IndexFunc(c.Apps, func(a store.Application) bool { return a.ID == ch.AppID })
	needApp := ch.Kind != ChangePolicy
	if needApp && idx < 0 {
		return FieldErrors{"application": ErrNoSuchApp}
	}
	policyExists := func(id *int64) bool {
		if id == nil {
			return true
		}
		p, ok := c.Policies[*id]
		return ok && !p.IsGlobal
	}
	switch ch.Kind {
	case ChangePolicy:
		old, ok := c.Policies[ch.Policy.ID]
		if !ok {
			return FieldErrors{"policy": ErrNoSuchPolicy}
		}
		p := ch.Policy
		p.IsGlobal, p.Key, p.CreatedAt = old.IsGlobal, old.Key, old.CreatedAt
		p.Name = strings.TrimSpace(p.Name)
		if p.IsGlobal {
			p.Name = old.Name
		}
		if errs := CheckPolicy(p); errs != nil {
			return errs
		}
		for _, other := range c.Policies {
			if other.ID != p.ID && strings.EqualFold(other.Name, strings.TrimSpace(p.Name)) {
				return FieldErrors{"name": ErrPolicyNameTaken}
			}
		}
		c.Policies[p.ID] = p
		if p.IsGlobal {
			c.Global = p
		}
	case ChangeAppPolicy:
		if !policyExists(ch.PolicyID) {
			return FieldErrors{"policy": ErrNoSuchPolicy}
		}
		c.Apps[idx].PolicyID = ch.PolicyID
	case ChangeAppGroups:
		for _, g := range ch.Groups {
			if _, ok := c.Group(g); !ok {
				return FieldErrors{"groups": ErrNoSuchGroup}
			}
		}
		if ch.Restricted && len(ch.Groups) == 0 {
			return FieldErrors{"groups": ErrNoGroups}
		}
		groups := slices.Clone(ch.Groups)
		slices.Sort(groups)
		if !ch.Restricted {
			groups = nil
		}
		c.Apps[idx].GroupsRestricted, c.Apps[idx].PermittedGroups = ch.Restricted, slices.Compact(groups)
	case ChangeOverride:
		errs := FieldErrors{}
		if _, ok := c.Group(ch.GroupID); !ok {
			errs["group"] = ErrNoSuchGroup
		}
		if ch.PolicyID == nil || !policyExists(ch.PolicyID) {
			errs["override_policy"] = ErrNoSuchPolicy
		}
		if len(errs) > 0 {
			return errs
		}
		list := c.Overrides[ch.AppID]
		if i := slices.IndexFunc(list, func(gp store.GroupPolicy) bool { return gp.GroupID == ch.GroupID }); i >= 0 {
			list[i].PolicyID = *ch.PolicyID
		} else {
			// A new override comes after the existing ones: it applies
			// only to members of none of their groups.
			prio := 0
			for _, gp := range list {
				prio = max(prio, gp.Priority+1)
			}
			list = append(list, store.GroupPolicy{ApplicationID: ch.AppID, GroupID: ch.GroupID, PolicyID: *ch.PolicyID, Priority: prio})
		}
		c.Overrides[ch.AppID] = list
	case ChangeOverrideRemove:
		list := c.Overrides[ch.AppID]
		i := slices.IndexFunc(list, func(gp store.GroupPolicy) bool { return gp.GroupID == ch.GroupID })
		if i < 0 {
			return FieldErrors{"group": ErrNoOverride}
		}
		c.Overrides[ch.AppID] = slices.Delete(list, i, i+1)
	default:
		return fmt.Errorf("policy: unknown change %q", ch.Kind)
	}
	return nil
}

// Preview is the impact of ch on every user, without saving anything.
// A FieldErrors error means the change is invalid as asked.
func (s *Service) Preview(ctx context.Context, ch Change) (Impact, Config, error) {
	before, after, subjects, err := s.proposal(ctx, ch)
	if err != nil {
		return Impact{}, before, err
	}
	return ComputeImpact(before, after, subjects), after, nil
}

// PreviewRows streams the users of Preview's impact to fn.
func (s *Service) PreviewRows(ctx context.Context, ch Change, fn func(ImpactRow) error) error {
	before, after, subjects, err := s.proposal(ctx, ch)
	if err != nil {
		return err
	}
	return ImpactRows(before, after, subjects, fn)
}

func (s *Service) proposal(ctx context.Context, ch Change) (before, after Config, subjects []store.AccessSubject, err error) {
	if before, err = s.LoadConfig(ctx); err != nil {
		return before, after, nil, err
	}
	after = before.Clone()
	if err = ch.applyTo(&after); err != nil {
		return before, after, nil, err
	}
	if subjects, err = s.Store.AccessSubjects(ctx, false); err != nil {
		return before, after, nil, fmt.Errorf("policy: load users: %w", err)
	}
	return before, after, subjects, nil
}

// Apply saves ch in one transaction with an audit record of the values
// before and after, if the configuration is still at version (what the
// admin previewed; ErrConfigChanged otherwise). The policy and application
// cache is emptied at commit, so the next login on every path sees it.
func (s *Service) Apply(ctx context.Context, ch Change, version string, who audit.Who) error {
	now := s.Clock.Now()
	return s.Store.InTx(ctx, func(q store.Queries) error {
		before, err := loadConfig(ctx, q)
		if err != nil {
			return err
		}
		if before.Version() != version {
			return ErrConfigChanged
		}
		after := before.Clone()
		if err := ch.applyTo(&after); err != nil {
			return err
		}
		app, _ := after.App(ch.AppID)
		oldApp, _ := before.App(ch.AppID)
		policyName := func(c Config, id *int64) any {
			if id == nil {
				return nil
			}
			return c.Policies[*id].Name
		}
		groupNames := func(c Config, ids []int64) []string {
			out := []string{}
			for _, id := range ids {
				g, _ := c.Group(id)
				out = append(out, g.Name)
			}
			return out
		}
		var entry store.AuditEntry
		switch ch.Kind {
		case ChangePolicy:
			p := after.Policies[ch.Policy.ID]
			p.UpdatedAt = now
			if err := q.UpdatePolicy(ctx, p); err != nil {
				return err
			}
			entry = audit.Entry(now, who, audit.PolicyUpdated, audit.TargetPolicy, p.Key,
				map[string]any{"name": p.Name, "before": policyDetails(before.Policies[p.ID]), "after": policyDetails(p)})
		case ChangeAppPolicy:
			if err := q.SetApplicationPolicy(ctx, app.ID, app.PolicyID, now); err != nil {
				return err
			}
			entry = audit.Entry(now, who, audit.ApplicationPolicySet, audit.TargetApplication, app.Key,
				map[string]any{"name": app.Name, "before": policyName(before, oldApp.PolicyID), "after": policyName(after, app.PolicyID)})
		case ChangeAppGroups:
			if err := q.SetApplicationGroups(ctx, app.ID, app.GroupsRestricted, app.PermittedGroups, now); err != nil {
				return err
			}
			entry = audit.Entry(now, who, audit.ApplicationGroupsSet, audit.TargetApplication, app.Key, map[string]any{"name": app.Name,
				"before": map[string]any{"restricted": oldApp.GroupsRestricted, "groups": groupNames(before, oldApp.PermittedGroups)},
				"after":  map[string]any{"restricted": app.GroupsRestricted, "groups": groupNames(after, app.PermittedGroups)}})
		case ChangeOverride:
			var prev any
			for _, gp := range before.Overrides[app.ID] {
				if gp.GroupID == ch.GroupID {
					prev = before.Policies[gp.PolicyID].Name
				}
			}
			gp, _ := OverrideFor(after.Overrides[app.ID], []int64{ch.GroupID})
			if err := q.SetGroupPolicy(ctx, gp); err != nil {
				return err
			}
			g, _ := after.Group(ch.GroupID)
			entry = audit.Entry(now, who, audit.GroupOverrideSet, audit.TargetApplication, app.Key, map[string]any{"name": app.Name,
				"group": g.Name, "before": prev, "after": after.Policies[gp.PolicyID].Name})
		case ChangeOverrideRemove:
			gp, _ := OverrideFor(before.Overrides[app.ID], []int64{ch.GroupID})
			if err := q.DeleteGroupPolicy(ctx, app.ID, ch.GroupID); err != nil {
				return err
			}
			g, _ := before.Group(ch.GroupID)
			entry = audit.Entry(now, who, audit.GroupOverrideRemoved, audit.TargetApplication, app.Key, map[string]any{"name": app.Name,
				"group": g.Name, "before": before.Policies[gp.PolicyID].Name, "after": nil})
		}
		return q.InsertAudit(ctx, entry)
	})
}

// policyDetails is a policy's settings for an audit record; nil means
// inherited.
func policyDetails(p store.Policy) map[string]any {
	d := map[string]any{"new_user_policy": nil, "denied_countries": nil, "enroll_methods": nil, "auth_methods": nil}
	if p.NewUserPolicy != "" {
		d["new_user_policy"] = p.NewUserPolicy
	}
	if p.DeniedCountries != nil {
		d["denied_countries"] = p.DeniedCountries
	}
	if p.EnrollMethods != nil {
		d["enroll_methods"] = p.EnrollMethods
	}
	if p.AuthMethods != nil {
		d["auth_methods"] = p.AuthMethods
	}
	return d
}

// CreatePolicy creates a named policy. Nobody uses it yet, so it needs no
// preview.
func (s *Service) CreatePolicy(ctx context.Context, p store.Policy, who audit.Who) (store.Policy, error) {
	p.Name = strings.TrimSpace(p.Name)
	p.IsGlobal = false
	if errs := CheckPolicy(p); errs != nil {
		return p, errs
	}
	now := s.Clock.Now()
	p.Key, p.CreatedAt, p.UpdatedAt = secret.NewID("DO", 20), now, now
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		all, err := q.Policies(ctx)
		if err != nil {
			return err
		}
		for _, other := range all {
			if strings.EqualFold(other.Name, p.Name) {
				return FieldErrors{"name": ErrPolicyNameTaken}
			}
		}
		if err := q.CreatePolicy(ctx, &p); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.PolicyCreated, audit.TargetPolicy, p.Key,
			map[string]any{"name": p.Name, "after": policyDetails(p)}))
	})
	return p, err
}

// InUseError lists where a policy that cannot be deleted is used.
type InUseError struct{ Uses []string }

func (e InUseError) Error() string { return "policy: in use by " + strings.Join(e.Uses, ", ") }

// Unwrap makes errors.Is(err, ErrPolicyInUse) hold.
func (e InUseError) Unwrap() error { return ErrPolicyInUse }

// DeletePolicy deletes a named policy that nothing uses; otherwise an
// InUseError says where it is used.
func (s *Service) DeletePolicy(ctx context.Context, id int64, who audit.Who) (store.Policy, error) {
	var p store.Policy
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		c, err := loadConfig(ctx, q)
		if err != nil {
			return err
		}
		var ok bool
		if p, ok = c.Policies[id]; !ok {
			return ErrNoSuchPolicy
		}
		if p.IsGlobal {
			return ErrGlobalNotDeleted
		}
		if uses := c.Uses(id); len(uses) > 0 {
			return InUseError{Uses: uses}
		}
		if err := q.DeletePolicy(ctx, id); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.Clock.Now(), who, audit.PolicyDeleted, audit.TargetPolicy, p.Key,
			map[string]any{"name": p.Name, "before": policyDetails(p)}))
	})
	return p, err
}
