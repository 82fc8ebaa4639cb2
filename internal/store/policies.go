package store

import (
	"context"
	"time"
)

// New user policies.
const (
	NewUserRequireEnrollment = "require-enrollment"
	NewUserAllow             = "allow"
	NewUserDeny              = "deny"
)

// Enrollment and authentication methods a policy may allow.
const (
	MethodAuthenticatorApp = "authenticator_app" // TOTP on a phone or tablet
	MethodSMS              = "sms"
	MethodSecurityKey      = "security_key"
	MethodHardwareToken    = "hardware_token"
)

// Policy is a named set of settings. In a non-global policy an empty value
// (NewUserPolicy "", nil slices) means "inherit from the level above":
// global -> application -> group override.
type Policy struct {
	ID              int64
	Key             string // public id, "DO..."
	Name            string
	IsGlobal        bool
	NewUserPolicy   string
	DeniedCountries []string // ISO 3166 alpha-2, upper case
	EnrollMethods   []string
	AuthMethods     []string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// GroupPolicy applies PolicyID to members of GroupID within one application.
// The lowest Priority wins when a user is in several such groups.
type GroupPolicy struct {
	ApplicationID int64
	GroupID       int64
	PolicyID      int64
	Priority      int
}

// PolicyQueries reads and writes policies.
type PolicyQueries interface {
	// CreatePolicy inserts p and sets its ID.
	CreatePolicy(ctx context.Context, p *Policy) error
	UpdatePolicy(ctx context.Context, p Policy) error
	PolicyByID(ctx context.Context, id int64) (Policy, error)
	// GlobalPolicy returns the one global policy, which the schema seeds.
	GlobalPolicy(ctx context.Context) (Policy, error)
	Policies(ctx context.Context) ([]Policy, error)
	SetGroupPolicy(ctx context.Context, gp GroupPolicy) error
	GroupPolicies(ctx context.Context, applicationID int64) ([]GroupPolicy, error)
}
