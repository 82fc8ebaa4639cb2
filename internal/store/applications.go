package store

import (
	"context"
	"time"
)

// Application kinds.
const (
	AppWeb      = "web"       // Universal Prompt: client_id + client_secret
	AppUnix     = "unix"      // login_duo / pam_duo: ikey + skey
	AppAuthAPI  = "auth-api"  // Auth API v2: ikey + skey
	AppAdminAPI = "admin-api" // Admin API v1: ikey + skey
)

// Admin API grants of an admin-api application.
const (
	GrantReadResource  = "read-resource"  // read users, phones, groups, tokens
	GrantWriteResource = "write-resource" // create, change and delete them
	GrantReadLog       = "read-log"       // authentication and administrator logs
	GrantSettings      = "settings"       // the organisation's information (info/summary)
)

// Grants lists the Admin API grants in the order they are shown.
var Grants = []string{GrantReadResource, GrantWriteResource, GrantReadLog, GrantSettings}

// Username normalization modes of an application.
const (
	NormalizeNone   = "none"
	NormalizeSimple = "simple"
)

// Application is a protected service that sends its users to the portal.
type Application struct {
	ID   int64
	Key  string // public id, "DA..."
	Name string
	Kind string
	// ClientID is the client_id (web) or integration key (others).
	ClientID string
	// ClientSecret is the sealed client_secret or secret key.
	ClientSecret          []byte
	PolicyID              *int64
	UsernameNormalization string
	// GroupsRestricted: only members of PermittedGroups may use it.
	GroupsRestricted bool
	PermittedGroups  []int64
	RedirectURIs     []string
	// AdminGrants are what an admin-api application may do (Grant*); nil
	// for none and for every other kind.
	AdminGrants []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ApplicationQueries reads and writes applications.
type ApplicationQueries interface {
	// CreateApplication inserts a with its redirect URIs and permitted
	// groups, and sets its ID. Run it in a transaction.
	CreateApplication(ctx context.Context, a *Application) error
	ApplicationByID(ctx context.Context, id int64) (Application, error)
	// ApplicationByKey finds an application by its public id ("DA...").
	ApplicationByKey(ctx context.Context, key string) (Application, error)
	// ApplicationByClientID finds an application by client_id or ikey.
	ApplicationByClientID(ctx context.Context, clientID string) (Application, error)
	Applications(ctx context.Context) ([]Application, error)
	// ApplicationSummaries lists every application by name, as the admin
	// list shows it, in one statement.
	ApplicationSummaries(ctx context.Context) ([]ApplicationSummary, error)
	// ApplicationSummaryByKey is the summary of one application.
	ApplicationSummaryByKey(ctx context.Context, key string) (ApplicationSummary, error)
	// UpdateApplicationDetails writes a's name, username normalization,
	// redirect URIs (the whole set) and updated_at; nothing else.
	UpdateApplicationDetails(ctx context.Context, a Application) error
	// SetApplicationSecret replaces the sealed secret of the application id.
	SetApplicationSecret(ctx context.Context, id int64, sealed []byte, at time.Time) error
	// DeleteApplication deletes the application id with everything that
	// belongs to it (redirect URIs, permitted groups, group overrides,
	// authorization codes, prompt and Auth API transactions). Run it in a
	// transaction with its audit record.
	DeleteApplication(ctx context.Context, id int64) error
	// RecordApplicationUse moves the last-used time of each application in
	// used forward to the given time (never back), in one statement.
	RecordApplicationUse(ctx context.Context, used map[int64]time.Time) error
}

// ApplicationSummary is an application as the admin list shows it.
type ApplicationSummary struct {
	Application
	// PolicyName is the name of the application's own policy; empty when
	// it inherits the global policy.
	PolicyName string
	// PolicyNewUser is the new user policy of that policy ("" inherits).
	PolicyNewUser string
	// GroupNames are the names of the permitted groups, by name.
	GroupNames []string
	LastUsedAt *time.Time
}
