package policy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"enrollportal/internal/store"
)

// Enrollment states of a user, one each, in the order they are decided.
const (
	StateDisabled  = "disabled"
	StateLockedOut = "locked_out"
	StateEnrolled  = "enrolled"
	StatePending   = "pending_link" // not enrolled, holding a live enrollment link
	StatePartial   = "partial"      // in the portal, not enrolled, no live link
)

// ProgressCounts are how many users are in each enrollment state.
type ProgressCounts struct {
	Total, Enrolled, Partial, Pending, LockedOut, Disabled int
}

// Left is how many users can still be asked to enroll: not enrolled, and
// neither disabled nor locked out.
func (c ProgressCounts) Left() int { return c.Partial + c.Pending }

func (c *ProgressCounts) add(state string) {
	c.Total++
	switch state {
	case StateDisabled:
		c.Disabled++
	case StateLockedOut:
		c.LockedOut++
	case StateEnrolled:
		c.Enrolled++
	case StatePending:
		c.Pending++
	default:
		c.Partial++
	}
}

// ScopeProgress is the progress of the users of one group or application.
type ScopeProgress struct {
	Key, Name string
	Counts    ProgressCounts
}

// Progress is how far enrollment has come, overall, per group and per
// application.
type Progress struct {
	All    ProgressCounts
	Groups []ScopeProgress
	Apps   []ScopeProgress
}

// Scope names the users a progress row or a send is about: the members of
// a group, the users who may use an application, or everyone.
type Scope struct {
	GroupKey, AppKey string
}

// progressData is what every progress question is answered from.
type progressData struct {
	cfg      Config
	subjects []store.AccessSubject
	live     []int64 // ascending
}

func (s *Service) loadProgress(ctx context.Context) (progressData, error) {
	var d progressData
	var err error
	if d.cfg, err = s.LoadConfig(ctx); err != nil {
		return d, err
	}
	if d.subjects, err = s.Store.AccessSubjects(ctx, true); err != nil {
		return d, fmt.Errorf("policy: progress: %w", err)
	}
	if d.live, err = s.Store.UsersWithLiveLinks(ctx, s.Clock.Now()); err != nil {
		return d, fmt.Errorf("policy: progress: %w", err)
	}
	return d, nil
}

// state is the user's enrollment state where methods are accepted.
func (d progressData) state(u store.AccessSubject, methods []string) string {
	switch {
	case u.Status == store.StatusDisabled:
		return StateDisabled
	case u.Status == store.StatusLockedOut:
		return StateLockedOut
	case subjectFactors(u).EnrolledUnder(methods):
		return StateEnrolled
	}
	if _, ok := slices.BinarySearch(d.live, u.ID); ok {
		return StatePending
	}
	return StatePartial
}

// orgMethods are the methods the global policy accepts.
func (d progressData) orgMethods() []string {
	e, _ := ResolveWithSources(d.cfg.Global, nil, nil)
	return e.AuthMethods
}

// appState is the user's state in app: nil when they may not use it.
// Enrolled means holding a factor the policy that applies to them there
// accepts.
func (d progressData) appState(app store.Application, u store.AccessSubject) (string, bool) {
	if app.GroupsRestricted && !anyIn(u.Groups, app.PermittedGroups) {
		return "", false
	}
	eff, _, _ := d.cfg.Effective(app, u.Groups)
	return d.state(u, eff.AuthMethods), true
}

// Progress counts every user's enrollment state overall and per group
// (under the global policy's methods) and per application (the users who
// may use it, under the methods its policy accepts for each of them).
func (s *Service) Progress(ctx context.Context) (Progress, error) {
	d, err := s.loadProgress(ctx)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	org := d.orgMethods()
	groupIdx := map[int64]int{}
	for i, g := range d.cfg.Groups {
		groupIdx[g.ID] = i
		p.Groups = append(p.Groups, ScopeProgress{Key: g.Key, Name: g.Name})
	}
	for _, a := range d.cfg.Apps {
		p.Apps = append(p.Apps, ScopeProgress{Key: a.Key, Name: a.Name})
	}
	for _, u := range d.subjects {
		st := d.state(u, org)
		p.All.add(st)
		for _, g := range u.Groups {
			if i, ok := groupIdx[g]; ok {
				p.Groups[i].Counts.add(st)
			}
		}
		for i, a := range d.cfg.Apps {
			if st, ok := d.appState(a, u); ok {
				p.Apps[i].Counts.add(st)
			}
		}
	}
	return p, nil
}

// ProgressUser is one user of a scope with their state.
type ProgressUser struct {
	store.AccessSubject
	State string
}

// ErrNoSuchScope: the group or application asked for does not exist.
var ErrNoSuchScope = fmt.Errorf("that group or application no longer exists")

// ProgressUsers lists the users of scope (everyone when empty) in username
// order with their state, and names the scope.
func (s *Service) ProgressUsers(ctx context.Context, sc Scope) ([]ProgressUser, string, error) {
	d, err := s.loadProgress(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []ProgressUser
	org := d.orgMethods()
	switch {
	case sc.AppKey != "":
		i := slices.IndexFunc(d.cfg.Apps, func(a store.Application) bool { return a.Key == sc.AppKey })
		if i < 0 {
			return nil, "", ErrNoSuchScope
		}
		for _, u := range d.subjects {
			if st, ok := d.appState(d.cfg.Apps[i], u); ok {
				out = append(out, ProgressUser{u, st})
			}
		}
		return out, "users of " + d.cfg.Apps[i].Name, nil
	case sc.GroupKey != "":
		i := slices.IndexFunc(d.cfg.Groups, func(g store.Group) bool { return g.Key == sc.GroupKey })
		if i < 0 {
			return nil, "", ErrNoSuchScope
		}
		for _, u := range d.subjects {
			if _, ok := slices.BinarySearch(u.Groups, d.cfg.Groups[i].ID); ok {
				out = append(out, ProgressUser{u, d.state(u, org)})
			}
		}
		return out, "members of " + d.cfg.Groups[i].Name, nil
	}
	for _, u := range d.subjects {
		out = append(out, ProgressUser{u, d.state(u, org)})
	}
	return out, "all users", nil
}

// RolloutDay is how many users had enrolled by the end of a day (UTC).
type RolloutDay struct {
	Day      time.Time
	Enrolled int
}

// Rollout is the number of enrolled users day by day, from the audit log
// of first activations, for everyone or the members of group groupKey:
// from the first activation to today, at most the last maxDays days.
func (s *Service) Rollout(ctx context.Context, groupKey string, maxDays int) ([]RolloutDay, error) {
	acts, err := s.Store.FirstActivations(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: rollout: %w", err)
	}
	if groupKey != "" {
		users, _, err := s.ProgressUsers(ctx, Scope{GroupKey: groupKey})
		if err != nil {
			return nil, err
		}
		members := map[string]bool{}
		for _, u := range users {
			members[u.Username] = true
		}
		acts = slices.DeleteFunc(acts, func(a store.Activation) bool { return !members[a.Username] })
	}
	today := s.Clock.Now().UTC().Truncate(24 * time.Hour)
	if len(acts) == 0 {
		return []RolloutDay{{Day: today}}, nil
	}
	first := acts[0].At.UTC().Truncate(24 * time.Hour)
	if earliest := today.AddDate(0, 0, -(maxDays - 1)); first.Before(earliest) {
		first = earliest
	}
	var out []RolloutDay
	n, i := 0, 0
	for day := first; !day.After(today); day = day.AddDate(0, 0, 1) {
		end := day.AddDate(0, 0, 1)
		for i < len(acts) && acts[i].At.Before(end) {
			n++
			i++
		}
		out = append(out, RolloutDay{Day: day, Enrolled: n})
	}
	return out, nil
}
