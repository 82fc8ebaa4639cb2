package policy

import (
	"slices"

	"enrollportal/internal/store"
)

// Results of an evaluation, spelled as Duo's preauth spells them.
const (
	ResultAuth   = "auth"   // ask for a second factor
	ResultAllow  = "allow"  // let in without a second factor
	ResultDeny   = "deny"   // refuse
	ResultEnroll = "enroll" // send the user to enroll first
)

// Reasons are machine-readable causes of a decision, written to the audit
// log and to the Universal Prompt's auth_context.
const (
	ReasonUserDisabled       = "user_disabled"
	ReasonLockedOut          = "locked_out"
	ReasonBypass             = "bypass"
	ReasonNotPermittedGroups = "not_in_permitted_groups"
	ReasonDeniedLocation     = "denied_location"
	ReasonNewUserDenied      = "new_user_denied"
	ReasonNewUserAllowed     = "new_user_allowed"
	ReasonEnrollmentRequired = "enrollment_required"
	ReasonEnrolled           = "enrolled"
)

// Defaults apply when even the global policy leaves a setting empty.
var (
	DefaultNewUserPolicy = store.NewUserRequireEnrollment
	DefaultEnrollMethods = []string{store.MethodAuthenticatorApp, store.MethodSecurityKey}
	DefaultAuthMethods   = []string{store.MethodAuthenticatorApp, store.MethodSecurityKey, store.MethodHardwareToken}
)

// Effective is the merged settings that apply to one request.
type Effective struct {
	NewUserPolicy   string
	DeniedCountries []string
	EnrollMethods   []string
	AuthMethods     []string
}

// Levels a setting's effective value may come from.
const (
	LevelDefault     = "default"     // the portal's built-in default
	LevelGlobal      = "global"      // the global policy
	LevelApplication = "application" // the application's policy
	LevelGroup       = "group"       // a group override in the application
)

// Sources says, for each setting of an Effective, which level set it.
type Sources struct {
	NewUserPolicy   string
	DeniedCountries string
	EnrollMethods   string
	AuthMethods     string
}

// Resolve merges the global policy, the application's policy and a group
// override (nil = none). In the application and group levels an empty
// NewUserPolicy or a nil list inherits the level above; an empty non-nil
// list is a deliberate "none".
func Resolve(global store.Policy, app, group *store.Policy) Effective {
	e, _ := ResolveWithSources(global, app, group)
	return e
}

// ResolveWithSources is Resolve that also tells which level each value
// comes from, for pages that show where a setting is decided.
func ResolveWithSources(global store.Policy, app, group *store.Policy) (Effective, Sources) {
	e := Effective{
		NewUserPolicy:   global.NewUserPolicy,
		DeniedCountries: global.DeniedCountries,
		EnrollMethods:   global.EnrollMethods,
		AuthMethods:     global.AuthMethods,
	}
	src := Sources{LevelGlobal, LevelGlobal, LevelGlobal, LevelGlobal}
	levels := []string{LevelApplication, LevelGroup}
	for i, p := range []*store.Policy{app, group} {
		if p == nil {
			continue
		}
		if p.NewUserPolicy != "" {
			e.NewUserPolicy, src.NewUserPolicy = p.NewUserPolicy, levels[i]
		}
		if p.DeniedCountries != nil {
			e.DeniedCountries, src.DeniedCountries = p.DeniedCountries, levels[i]
		}
		if p.EnrollMethods != nil {
			e.EnrollMethods, src.EnrollMethods = p.EnrollMethods, levels[i]
		}
		if p.AuthMethods != nil {
			e.AuthMethods, src.AuthMethods = p.AuthMethods, levels[i]
		}
	}
	if e.NewUserPolicy == "" {
		e.NewUserPolicy, src.NewUserPolicy = DefaultNewUserPolicy, LevelDefault
	}
	if e.EnrollMethods == nil {
		e.EnrollMethods, src.EnrollMethods = DefaultEnrollMethods, LevelDefault
	}
	if e.AuthMethods == nil {
		e.AuthMethods, src.AuthMethods = DefaultAuthMethods, LevelDefault
	}
	if e.DeniedCountries == nil {
		e.DeniedCountries, src.DeniedCountries = []string{}, LevelDefault
	}
	return e, src
}

// OverrideFor picks the group override that applies to a member of groups
// among an application's overrides (ordered by priority): the first whose
// group they are in.
func OverrideFor(overrides []store.GroupPolicy, groups []int64) (store.GroupPolicy, bool) {
	for _, gp := range overrides {
		if slices.Contains(groups, gp.GroupID) {
			return gp, true
		}
	}
	return store.GroupPolicy{}, false
}

// Request is what is known about one authentication attempt.
type Request struct {
	User *store.User // nil: no such user
	// Enrolled: the user holds a factor of a method the
	// effective policy accepts.
	Enrolled   bool
	UserGroups []int64
	Country    string // ISO 3166 alpha-2 of the client address; "" unknown
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Result    string
	Reason    string
	Message   string // a sentence to show the person, on a page or a terminal
	Effective Effective
}

// Evaluate decides an authentication request. The order matters: a disabled
// or locked-out account is refused before anything else; group and location
// restrictions hold even for bypass users; only then do enrollment and the
// new user policy count. A user who exists but has no usable factor
// (partially enrolled) is asked to enroll even under "allow": "allow" is for
// people the portal has never heard of.
func Evaluate(app store.Application, eff Effective, req Request) Decision {
	d := func(result, reason, msg string) Decision {
		return Decision{Result: result, Reason: reason, Message: msg, Effective: eff}
	}
	u := req.User
	if u != nil {
		if denial, denied := StatusDenial(u.Status); denied {
			return d(ResultDeny, denial.Reason, denial.Message)
		}
	}
	if app.GroupsRestricted && !anyIn(req.UserGroups, app.PermittedGroups) {
		return d(ResultDeny, ReasonNotPermittedGroups, "You are not allowed to use "+app.Name+". Contact your help desk if you need access.")
	}
	if req.Country != "" && slices.Contains(eff.DeniedCountries, req.Country) {
		return d(ResultDeny, ReasonDeniedLocation, "Access to "+app.Name+" is not allowed from your current location.")
	}
	if u != nil && u.Status == store.StatusBypass {
		return d(ResultAllow, ReasonBypass, "You are allowed in without a second factor.")
	}
	if req.Enrolled && u != nil {
		return d(ResultAuth, ReasonEnrolled, "Confirm it is you with your second factor.")
	}
	switch eff.NewUserPolicy {
	case store.NewUserDeny:
		return d(ResultDeny, ReasonNewUserDenied, "You are not enrolled in two-factor authentication, and "+app.Name+" requires it. Contact your help desk.")
	case store.NewUserAllow:
		if u == nil {
			return d(ResultAllow, ReasonNewUserAllowed, "You are allowed in without a second factor.")
		}
	}
	return d(ResultEnroll, ReasonEnrollmentRequired, "Set up two-factor authentication to continue.")
}

func anyIn(have, want []int64) bool {
	for _, g := range have {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}
