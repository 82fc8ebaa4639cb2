package admin

import (
	"html/template"
	"log/slog"
	"slices"
	"time"

	"github.com/gorilla/sessions"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/bulk"
	"enrollportal/internal/clock"
	"enrollportal/internal/directory"
	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/importer"
	"enrollportal/internal/jobs"
	"enrollportal/internal/notify"
	"enrollportal/internal/org"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/throttle"
	"enrollportal/internal/users"
	"enrollportal/internal/web/render"
)

// Store is what the admin pages read of the database directly: the users,
// groups, phones, applications, admins, audit records, activations,
// enrollment links and messages they list and show, the settings rows and
// the global policy. They change nothing through it: every write is one
// call of a domain service, which opens the transaction and writes the
// audit record, so the pages get no store.Transactor.
type Store interface {
	store.UserQueries
	store.UserListQueries
	store.PhoneQueries
	store.GroupQueries
	store.GroupAdminQueries
	store.ApplicationQueries
	store.AdminQueries
	store.AuditQueries
	store.AuditSearchQueries
	store.ActivationQueries
	store.EnrollmentLinkQueries
	store.PendingEnrollmentQueries
	store.OutboxAdminQueries
	store.SettingQueries
	policy.GlobalPolicyReader
}

// Options are the dependencies of the admin section.
type Options struct {
	Store  Store
	Enroll *enroll.Service
	// Factors issues and clears bypass codes.
	Factors *factors.Service
	// Users adds, edits and deletes users and groups.
	Users  *users.Service
	Admins *admin.Service
	// Notify composes messages (the organisation's header line) and is
	// woken after the pages commit messages to the outbox.
	Notify *notify.Service
	Box    *secret.Box
	Clock  clock.Clock
	Logger *slog.Logger
	// BaseURL is the portal's address, for links in messages and pages.
	BaseURL string
	Secure  bool // cookies get the Secure flag (base URL is https)
	// Org holds the organisation's settings, which the settings page saves.
	Org *org.Settings
	// Bulk runs bulk enrollments; Importer imports users from CSV files,
	// keeping the checked plans between preview and apply.
	Bulk     *bulk.Service
	Importer *importer.Service
	// Jobs runs the bulk sends and imports; its pages show their progress.
	Jobs *jobs.Runner
	// Pages renders the pages, shared with the enrollment pages.
	Pages *render.Renderer
	// Apps adds, changes and deletes applications and shows their
	// credentials.
	Apps *apps.Service
	// Policy previews, applies and checks changes to who gets what.
	Policy *policy.Service
	// Directories adds, tests, previews and syncs LDAP directories.
	Directories *directory.Service
}

// Section holds what the admin handlers need; they are its methods.
type Section struct {
	*render.Renderer

	store   Store
	enroll  *enroll.Service
	factors *factors.Service
	users   *users.Service
	clock   clock.Clock
	log     *slog.Logger
	// baseURL is the portal's address, for links in messages and pages.
	baseURL string

	admins        *admin.Service
	notify        *notify.Service
	org           *org.Settings
	adminSessions *sessions.CookieStore
	// adminIPTries limits sign-in attempts per client address, on top of
	// the account's slowdown after wrong tries.
	adminIPTries *throttle.Limiter

	bulk     *bulk.Service
	importer *importer.Service
	jobs     *jobs.Runner
	apps     *apps.Service
	policy   *policy.Service
	dirs     *directory.Service
}

// New builds the admin section; Register adds its routes.
func New(o Options) *Section {
	s := &Section{
		Renderer: o.Pages,
		store:    o.Store, enroll: o.Enroll, factors: o.Factors, users: o.Users, clock: o.Clock, log: o.Logger, baseURL: o.BaseURL,
		admins: o.Admins, notify: o.Notify, org: o.Org,
		adminSessions: newAdminSessionStore(o.Box, o.Secure),
		adminIPTries:  throttle.New(o.Clock, 20, 30*time.Second),
		bulk:          o.Bulk, importer: o.Importer, jobs: o.Jobs, apps: o.Apps,
		policy: o.Policy, dirs: o.Directories,
	}
	return s
}

// TemplateFuncs are the template functions of the admin pages: times in
// UTC, labels for stored codes, the activation texts partial.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"when":            formatWhen,
		"statusLabel":     statusLabel,
		"roleLabel":       admin.RoleLabel,
		"activationTexts": activationTextsData,
		"kindLabel":       kindLabel,
		"grantHint":       grantHint,
		"hasString":       slices.Contains[[]string],
		"methodLabel":     methodLabel,
		"countryName":     policy.CountryName,
		"reasonLabel":     policy.ReasonLabel,
		"hasValue":        func(list []string, v string) bool { return slices.Contains(list, v) },
		"policyMethods":   policyMethods,
		"progressRow":     progressRow,
	}
}
