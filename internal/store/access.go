package store

import (
	"context"
	"time"
)

// AccessSubject is what policy evaluation needs to know of one user, loaded
// for every user at once when the impact of a policy change is computed.
type AccessSubject struct {
	ID       int64
	Username string
	Status   string
	Email    string  // when asked for
	Groups   []int64 // ascending
	// HasAuthenticatorApp: an activated phone with an authenticator app.
	HasAuthenticatorApp bool
	// HasSMSPhone: a phone that takes SMS passcodes (Phone.TakesSMS).
	HasSMSPhone bool
	// HasSecurityKey: at least one registered security key.
	HasSecurityKey bool
	// HasHardwareToken: at least one hardware token assigned.
	HasHardwareToken bool
}

// AccessQueries reads everything that decides access in bulk and writes
// an application's access settings.
type AccessQueries interface {
	// AccessSubjects lists every user in username order with their groups
	// and which kinds of factor they hold, in a few scans whatever the
	// number of users; Email is read only when emails is set.
	AccessSubjects(ctx context.Context, emails bool) ([]AccessSubject, error)
	// UsersWithLiveLinks lists, in id order, the users holding an
	// enrollment link that is neither used, revoked nor expired at now.
	UsersWithLiveLinks(ctx context.Context, now time.Time) ([]int64, error)
	// FirstActivations lists, for every user whose first factor was
	// activated (an authenticator app) or registered (a security key), the
	// username and when, from the audit log, oldest first.
	FirstActivations(ctx context.Context) ([]Activation, error)
	// AllGroupPolicies lists the group overrides of every application,
	// ordered by application, priority and group.
	AllGroupPolicies(ctx context.Context) ([]GroupPolicy, error)
	// SetApplicationPolicy points the application at policyID (nil: the
	// global policy alone).
	SetApplicationPolicy(ctx context.Context, appID int64, policyID *int64, at time.Time) error
	// SetApplicationGroups replaces the application's permitted groups and
	// whether they restrict it.
	SetApplicationGroups(ctx context.Context, appID int64, restricted bool, groups []int64, at time.Time) error
	// DeleteGroupPolicy removes the override of groupID in the application.
	DeleteGroupPolicy(ctx context.Context, appID, groupID int64) error
	// DeletePolicy deletes a named policy (never the global one).
	DeletePolicy(ctx context.Context, id int64) error
}

// Activation is when a user first held a factor, as the audit log tells.
type Activation struct {
	Username string
	At       time.Time
}
