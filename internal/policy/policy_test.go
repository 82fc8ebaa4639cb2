package policy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

func TestResolveMergesGlobalApplicationGroup(t *testing.T) {
	global := store.Policy{IsGlobal: true, NewUserPolicy: store.NewUserRequireEnrollment, DeniedCountries: []string{},
		EnrollMethods: []string{store.MethodAuthenticatorApp, store.MethodSecurityKey}, AuthMethods: []string{store.MethodAuthenticatorApp}}
	app := &store.Policy{NewUserPolicy: store.NewUserAllow, DeniedCountries: []string{"KP"}}
	group := &store.Policy{NewUserPolicy: store.NewUserDeny, EnrollMethods: []string{store.MethodSecurityKey}}
	empty := &store.Policy{}

	tests := []struct {
		name       string
		app, group *store.Policy
		want       policy.Effective
	}{
		{"global only", nil, nil, policy.Effective{NewUserPolicy: "require-enrollment", DeniedCountries: []string{},
			EnrollMethods: []string{"authenticator_app", "security_key"}, AuthMethods: []string{"authenticator_app"}}},
		{"application overrides some", app, nil, policy.Effective{NewUserPolicy: "allow", DeniedCountries: []string{"KP"},
			EnrollMethods: []string{"authenticator_app", "security_key"}, AuthMethods: []string{"authenticator_app"}}},
		{"group overrides application", app, group, policy.Effective{NewUserPolicy: "deny", DeniedCountries: []string{"KP"},
			EnrollMethods: []string{"security_key"}, AuthMethods: []string{"authenticator_app"}}},
		{"group without application", nil, group, policy.Effective{NewUserPolicy: "deny", DeniedCountries: []string{},
			EnrollMethods: []string{"security_key"}, AuthMethods: []string{"authenticator_app"}}},
		{"empty policies inherit everything", empty, empty, policy.Effective{NewUserPolicy: "require-enrollment", DeniedCountries: []string{},
			EnrollMethods: []string{"authenticator_app", "security_key"}, AuthMethods: []string{"authenticator_app"}}},
		{"empty list is a deliberate none", &store.Policy{DeniedCountries: []string{"KP"}}, &store.Policy{DeniedCountries: []string{}},
			policy.Effective{NewUserPolicy: "require-enrollment", DeniedCountries: []string{},
				EnrollMethods: []string{"authenticator_app", "security_key"}, AuthMethods: []string{"authenticator_app"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := policy.Resolve(global, tt.app, tt.group)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("empty global falls back to defaults", func(t *testing.T) {
		got := policy.Resolve(store.Policy{IsGlobal: true}, nil, nil)
		if got.NewUserPolicy != store.NewUserRequireEnrollment || !slices.Equal(got.EnrollMethods, policy.DefaultEnrollMethods) ||
			!slices.Equal(got.AuthMethods, policy.DefaultAuthMethods) || got.DeniedCountries == nil {
			t.Errorf("Resolve(empty global) = %+v", got)
		}
	})
}

// userState is one of the kinds of user a request may come from.
type userState struct {
	name     string
	user     *store.User
	enrolled bool
}

var userStates = []userState{
	{"unknown", nil, false},
	{"partially enrolled", &store.User{ID: 1, Username: "pat", Status: store.StatusActive}, false},
	{"enrolled", &store.User{ID: 2, Username: "erin", Status: store.StatusActive}, true},
	{"bypass", &store.User{ID: 3, Username: "bea", Status: store.StatusBypass}, false},
	{"bypass enrolled", &store.User{ID: 3, Username: "bea", Status: store.StatusBypass}, true},
	{"disabled", &store.User{ID: 4, Username: "dan", Status: store.StatusDisabled}, true},
	{"disabled unenrolled", &store.User{ID: 4, Username: "dan", Status: store.StatusDisabled}, false},
	{"locked out", &store.User{ID: 5, Username: "lou", Status: store.StatusLockedOut}, true},
}

// groupCase is the application's group restriction and the user's groups.
type groupCase struct {
	name       string
	restricted bool
	userGroups []int64
}

var groupCases = []groupCase{
	{"unrestricted", false, nil},
	{"restricted, member", true, []int64{7, 9}},
	{"restricted, outsider", true, []int64{8}},
}

// locationCase is the client's country as the GeoIP file tells it.
type locationCase struct {
	name    string
	country string
}

var locationCases = []locationCase{
	{"no GeoIP file", ""},
	{"allowed country", "DE"},
	{"denied country", "KP"},
}

// expected spells out the rules in the order people reason about them, as
// the specification states them.
func expected(u userState, newUser string, g groupCase, l locationCase) (result, reason string) {
	member := !g.restricted || slices.Contains(g.userGroups, 9)
	switch {
	case u.user != nil && u.user.Status == store.StatusDisabled:
		return "deny", "user_disabled"
	case u.user != nil && u.user.Status == store.StatusLockedOut:
		return "deny", "locked_out"
	case !member:
		return "deny", "not_in_permitted_groups"
	case l.country == "KP":
		return "deny", "denied_location"
	case u.user != nil && u.user.Status == store.StatusBypass:
		return "allow", "bypass"
	case u.enrolled:
		return "auth", "enrolled"
	case newUser == "deny":
		return "deny", "new_user_denied"
	case newUser == "allow" && u.user == nil:
		return "allow", "new_user_allowed"
	}
	// Partially enrolled users are asked to enroll even under "allow".
	return "enroll", "enrollment_required"
}

func TestEvaluateEveryCombination(t *testing.T) {
	n := 0
	for _, u := range userStates {
		for _, newUser := range []string{store.NewUserRequireEnrollment, store.NewUserAllow, store.NewUserDeny} {
			for _, g := range groupCases {
				for _, l := range locationCases {
					name := fmt.Sprintf("%s/%s/%s/%s", u.name, newUser, g.name, l.name)
					app := store.Application{ID: 1, Name: "VPN", GroupsRestricted: g.restricted, PermittedGroups: []int64{9}}
					eff := policy.Effective{NewUserPolicy: newUser, DeniedCountries: []string{"KP", "IR"},
						EnrollMethods: policy.DefaultEnrollMethods, AuthMethods: policy.DefaultAuthMethods}
					got := policy.Evaluate(app, eff, policy.Request{User: u.user, Enrolled: u.enrolled, UserGroups: g.userGroups, Country: l.country})
					wantResult, wantReason := expected(u, newUser, g, l)
					if got.Result != wantResult || got.Reason != wantReason {
						t.Errorf("%s: got %s (%s), want %s (%s)", name, got.Result, got.Reason, wantResult, wantReason)
					}
					if got.Message == "" {
						t.Errorf("%s: no message for the person", name)
					}
					if got.Effective.NewUserPolicy != newUser {
						t.Errorf("%s: decision does not carry the effective policy", name)
					}
					n++
				}
			}
		}
	}
	if n != len(userStates)*3*len(groupCases)*len(locationCases) {
		t.Fatalf("ran %d combinations", n)
	}
}

// The cases the issue names, one by one, so a reader sees them spelled out.
func TestEvaluateNamedCases(t *testing.T) {
	app := store.Application{Name: "VPN"}
	allow := policy.Effective{NewUserPolicy: store.NewUserAllow, DeniedCountries: []string{"KP"}}
	require := policy.Effective{NewUserPolicy: store.NewUserRequireEnrollment}
	active := &store.User{Username: "ann", Status: store.StatusActive}
	tests := []struct {
		name       string
		eff        policy.Effective
		req        policy.Request
		wantResult string
		wantReason string
		wantInMsg  string
	}{
		{"unknown user under allow gets in", allow, policy.Request{}, "allow", "new_user_allowed", "without a second factor"},
		{"partially enrolled user under allow must enroll", allow, policy.Request{User: active}, "enroll", "enrollment_required", "Set up"},
		{"unknown user under require-enrollment must enroll", require, policy.Request{}, "enroll", "enrollment_required", "Set up"},
		{"enrolled user is asked for a factor", require, policy.Request{User: active, Enrolled: true}, "auth", "enrolled", "second factor"},
		{"denied country", allow, policy.Request{User: active, Enrolled: true, Country: "KP"}, "deny", "denied_location", "location"},
		{"country unknown without GeoIP", allow, policy.Request{User: active, Enrolled: true}, "auth", "enrolled", ""},
		{"locked out", require, policy.Request{User: &store.User{Status: store.StatusLockedOut}, Enrolled: true}, "deny", "locked_out", "help desk"},
		{"disabled", require, policy.Request{User: &store.User{Status: store.StatusDisabled}, Enrolled: true}, "deny", "user_disabled", "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := policy.Evaluate(app, tt.eff, tt.req)
			if got.Result != tt.wantResult || got.Reason != tt.wantReason {
				t.Fatalf("got %s (%s), want %s (%s)", got.Result, got.Reason, tt.wantResult, tt.wantReason)
			}
			if tt.wantInMsg != "" && !contains(got.Message, tt.wantInMsg) {
				t.Errorf("message %q does not mention %q", got.Message, tt.wantInMsg)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestStatusDenialGatesEveryStatus: the status gate stops exactly the
// disabled and locked-out statuses, and Evaluate denies with its words.
func TestStatusDenialGatesEveryStatus(t *testing.T) {
	app := store.Application{Name: "VPN"}
	require := policy.Effective{NewUserPolicy: store.NewUserRequireEnrollment}
	for _, status := range []string{store.StatusActive, store.StatusBypass, store.StatusDisabled, store.StatusLockedOut} {
		d, denied := policy.StatusDenial(status)
		want := status == store.StatusDisabled || status == store.StatusLockedOut
		if denied != want {
			t.Fatalf("%s: denied %v, want %v", status, denied, want)
		}
		err := policy.StatusError(store.User{Status: status})
		if !denied {
			if err != nil {
				t.Fatalf("%s: StatusError %v", status, err)
			}
			continue
		}
		if err != d.Err || d.Message == "" {
			t.Fatalf("%s: denial %+v, StatusError %v", status, d, err)
		}
		got := policy.Evaluate(app, require, policy.Request{User: &store.User{Status: status}, Enrolled: true})
		if got.Result != policy.ResultDeny || got.Reason != d.Reason || got.Message != d.Message {
			t.Fatalf("%s: Evaluate %+v, gate %+v", status, got, d)
		}
	}
	if l := policy.LockedOutDenial(); l.Err != verify.ErrLockedOut || l.Reason != policy.ReasonLockedOut {
		t.Fatalf("LockedOutDenial %+v", l)
	}
	if enroll.ErrUserDisabled != policy.ErrUserDisabled {
		t.Fatal("enroll's disabled error is not the gate's")
	}
}
