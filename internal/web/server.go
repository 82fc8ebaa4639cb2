package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/prometheus/client_golang/prometheus"

	accounts "enrollportal/internal/admin"
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
	"enrollportal/internal/prompt"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/throttle"
	"enrollportal/internal/users"
	"enrollportal/internal/web/admin"
	"enrollportal/internal/web/render"
)

// Store is what the web layer reads of the database directly: the users,
// their groups and the applications the enrollment and prompt pages look
// up, the settings rows (the logo), Ping for /readyz, and what the admin
// section reads (admin.Store), which it passes on. Every change is one
// call of a domain service, so the pages get no store.Transactor.
type Store interface {
	admin.Store
	store.UserQueries
	store.GroupQueries
	store.ApplicationQueries
	store.SettingQueries
	// Ping tells whether the database answers and accepts writes.
	Ping(ctx context.Context) error
}

// Options are the dependencies of the web layer.
type Options struct {
	Store  Store
	Enroll *enroll.Service
	// Factors issues bypass and recovery codes.
	Factors *factors.Service
	Users   *users.Service
	Policy  *policy.Service
	Prompt  *prompt.Service
	Box     *secret.Box
	Clock   clock.Clock
	Logger  *slog.Logger
	BaseURL string
	Secure  bool // cookies get the Secure flag (base URL is https)
	// OrgName returns the organisation's name shown on every page.
	OrgName func(ctx context.Context) string
	// Admins signs admins in and manages their accounts.
	Admins *accounts.Service
	// Notify composes messages (the organisation's header line) and is
	// woken after the pages commit messages to the outbox.
	Notify *notify.Service
	// Org holds the organisation's settings, which the admin pages save.
	Org *org.Settings
	// DuoAPI serves the Duo-compatible APIs (REST v1, Auth API v2); nil
	// leaves them out.
	DuoAPI APIRoutes
	// AdminAPI serves Duo's Admin API (/admin/v1, /admin/v2); nil leaves
	// it out.
	AdminAPI APIRoutes
	// Bulk runs bulk enrollments; Importer imports users from CSV files,
	// keeping the checked plans between preview and apply.
	Bulk     *bulk.Service
	Importer *importer.Service
	// Jobs runs bulk sends and imports (their progress pages).
	Jobs *jobs.Runner
	// Apps manages applications (the admin section's pages).
	Apps *apps.Service
	// Directories syncs LDAP directories (the admin section's pages).
	Directories *directory.Service
	// MetricsToken, when set, lets a caller from elsewhere read /metrics on
	// the main listener with "Authorization: Bearer TOKEN".
	MetricsToken string
	// MetricsElsewhere: /metrics has its own listener, so the main one
	// does not serve it.
	MetricsElsewhere bool
	// TrustedProxies are the addresses and CIDR ranges of the reverse
	// proxies whose X-Forwarded-For names the client (config's
	// PORTAL_TRUSTED_PROXIES); none when empty.
	TrustedProxies []string
}

// Server holds what the handlers need; handlers are its methods. The only
// package-level state of the web layer is what is declared at start and the
// same for every Server: the page names (render.Declare) and the admin
// routes' permissions (web/admin).
type Server struct {
	store   Store
	enroll  *enroll.Service
	factors *factors.Service
	users   *users.Service
	policy  *policy.Service
	prompt  *prompt.Service
	clock   clock.Clock
	log     *slog.Logger
	baseURL string
	// pages renders every page, the admin section's too.
	pages    *render.Renderer
	assets   *assets
	sessions *sessions.CookieStore
	// csrfKey signs the browser pages' CSRF cookie.
	csrfKey []byte
	metrics *metrics
	// linkTries limits how many enrollment-link lookups one IP may make, so
	// that links cannot be guessed at speed (they have 256 bits anyway).
	linkTries *throttle.Limiter
	engine    *gin.Engine

	notify *notify.Service
	duoAPI APIRoutes
	// adminAPI serves /admin/v1 and /admin/v2.
	adminAPI APIRoutes
	// admin is the admin section under /admin (package web/admin).
	admin *admin.Section

	metricsToken     string
	metricsElsewhere bool
}

// New parses the templates, hashes the assets and builds the router. A
// template that is missing or does not parse fails here, not on a request.
func New(o Options) (*Server, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	funcs := admin.TemplateFuncs()
	pages, err := render.New(render.Options{
		Funcs: funcs, AssetURL: a.url, Log: o.Logger, Org: o.OrgName,
		Logo: render.NewLogo(o.Store, o.Logger), Frame: admin.FrameOf, BaseURL: o.BaseURL,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		store: o.Store, enroll: o.Enroll, factors: o.Factors, users: o.Users, prompt: o.Prompt, policy: o.Policy, clock: o.Clock, log: o.Logger,
		baseURL: o.BaseURL, pages: pages, assets: a,
		sessions:  newSessionStore(o.Box, o.Secure),
		csrfKey:   o.Box.SubKey("csrf-cookie"),
		metrics:   newMetrics(),
		linkTries: throttle.New(o.Clock, 60, 10*time.Second),
		duoAPI:    o.DuoAPI,
		adminAPI:  o.AdminAPI,
		notify:    o.Notify,
		admin: admin.New(admin.Options{
			Store: o.Store, Enroll: o.Enroll, Factors: o.Factors, Users: o.Users, Admins: o.Admins, Notify: o.Notify, Box: o.Box, Clock: o.Clock,
			Logger: o.Logger, BaseURL: o.BaseURL, Secure: o.Secure, Org: o.Org,
			Bulk: o.Bulk, Importer: o.Importer, Jobs: o.Jobs, Pages: pages, Apps: o.Apps, Policy: o.Policy,
			Directories: o.Directories,
		}),
		metricsToken: o.MetricsToken, metricsElsewhere: o.MetricsElsewhere,
	}
	s.engine = s.routes()
	if err := s.engine.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, fmt.Errorf("web: trusted proxies: %w", err)
	}
	return s, nil
}

// Handler returns the portal's HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Registry is the Prometheus registry behind /metrics, for counters other
// packages add.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }
