package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"enrollportal/internal/admin"
	"enrollportal/internal/adminapi"
	"enrollportal/internal/apps"
	"enrollportal/internal/bulk"
	"enrollportal/internal/clock"
	"enrollportal/internal/config"
	"enrollportal/internal/directory"
	"enrollportal/internal/duo"
	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/importer"
	"enrollportal/internal/instance"
	"enrollportal/internal/jobs"
	"enrollportal/internal/notify"
	"enrollportal/internal/org"
	"enrollportal/internal/policy"
	"enrollportal/internal/prompt"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/store/postgres"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/store/sqlstore"
	"enrollportal/internal/users"
	"enrollportal/internal/web"
)

// App is a wired portal.
type App struct {
	Settings config.Settings
	Log      *slog.Logger
	Store    *sqlstore.DB
	Box      *secret.Box
	Clock    clock.Clock
	Org      *org.Settings
	Users    *users.Service
	Enroll   *enroll.Service
	Factors  *factors.Service
	Admins   *admin.Service
	Policy   *policy.Service
	Apps     *apps.Service
	// Directories syncs users and groups from LDAP directories.
	Directories *directory.Service
	Prompt      *prompt.Service
	// Notify composes messages and delivers the outbox.
	Notify *notify.Service
	// Bulk runs bulk enrollments; Importer imports users from CSV; both
	// apply their changes as jobs of Jobs.
	Bulk     *bulk.Service
	Importer *importer.Service
	Jobs     *jobs.Runner
	// Instance is this process in the database; its start id is on every
	// claim the workers take.
	Instance *instance.Instance
	// KeyCreated is true when this start created the at-rest key file.
	KeyCreated bool

	metricsToken string
	web          *web.Server
}

// Options adjust how the portal is assembled; the zero value is production.
type Options struct {
	Clock  clock.Clock // the real clock when nil
	LogOut io.Writer   // where JSON logs go; required
	// AfterJobStep is called after every committed step of a job (tests
	// stop the process there to check the recovery).
	AfterJobStep func(store.Job)
}

// OpenStore opens the store s.DB names: PostgreSQL for a postgres:// URL,
// else the SQLite file.
func OpenStore(ctx context.Context, s config.Settings) (*sqlstore.DB, error) {
	if s.IsPostgres() {
		return postgres.Open(ctx, s.DB)
	}
	return sqlite.Open(ctx, s.SQLitePath())
}

// Open opens the database and the key and builds the services.
func Open(ctx context.Context, s config.Settings, o Options) (*App, error) {
	a := &App{Settings: s, Clock: o.Clock}
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[s.LogLevel]
	a.Log = slog.New(slog.NewJSONHandler(o.LogOut, &slog.HandlerOptions{Level: level}))
	var err error
	if a.metricsToken, err = readMetricsToken(s.MetricsTokenFile); err != nil {
		return nil, err
	}
	if a.Store, err = OpenStore(ctx, s); err != nil {
		return nil, err
	}
	key, created, err := loadKey(ctx, a.Store, s.SecretKeyFile, s.DBName(), a.Clock)
	if err != nil {
		a.Store.Close()
		return nil, err
	}
	a.KeyCreated = created
	if a.Box, err = secret.NewBox(key); err != nil {
		a.Store.Close()
		return nil, err
	}
	// Registering this process takes back at once what a crashed earlier
	// start held (outbox messages being sent, jobs being applied).
	a.Instance, err = instance.Start(ctx, instance.Options{Store: a.Store, Clock: a.Clock, Log: a.Log,
		Dir: filepath.Join(s.DataDir(), "instances")})
	if err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.Jobs = jobs.New(jobs.Options{Store: a.Store, Clock: a.Clock, Log: a.Log, Owner: a.Instance.ID(), AfterStep: o.AfterJobStep})
	a.Org = org.New(a.Store, s.OrgName)
	a.Policy = &policy.Service{Store: a.Store, Clock: a.Clock}
	a.Apps = &apps.Service{Store: a.Store, Clock: a.Clock, Box: a.Box}
	a.Directories = &directory.Service{Store: a.Store, Clock: a.Clock, Box: a.Box, Log: a.Log}
	if s.GeoIPDB != "" {
		if a.Policy.GeoIP, err = policy.OpenGeoIP(s.GeoIPDB); err != nil {
			a.Store.Close()
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	a.Users = &users.Service{Store: a.Store, Clock: a.Clock}
	a.Admins = admin.New(a.Store, a.Clock, a.Box)
	a.Apps.StepUp = a.Admins
	a.Notify, err = notify.New(notify.Options{
		Store: a.Store, Clock: a.Clock, Log: a.Log, OrgName: a.Org.Name,
		SMTPURL: s.SMTPURL, MailFrom: s.MailFrom, SMSURL: s.SMSURL, Instance: a.Instance.ID(),
	})
	if err != nil {
		a.Store.Close()
		return nil, err
	}
	a.Enroll, err = enroll.New(enroll.Options{
		Store: a.Store, Clock: a.Clock, Box: a.Box, BaseURL: s.BaseURL, OrgName: a.Org.Name,
	})
	if err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.Factors = factors.New(a.Store, a.Clock, a.Box)
	a.Factors.UseSMS(a.Org.Name, a.Notify.Wake)
	a.Bulk = bulk.New(bulk.Options{Store: a.Store, Enroll: a.Enroll, Clock: a.Clock, OrgName: a.Org.Name, Jobs: a.Jobs})
	a.Directories.Bulk = a.Bulk
	// The plans of checked import files wait for their apply in the
	// database, where every instance finds them.
	a.Importer = importer.New(a.Store, a.Clock, a.Jobs)
	if a.Prompt, err = prompt.New(prompt.Options{Store: a.Store, Clock: a.Clock, Secrets: a.Apps, Usage: a.Apps, BaseURL: s.BaseURL}); err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	return a, nil
}

// readMetricsToken reads PORTAL_METRICS_TOKEN_FILE; a token short enough
// to guess is refused.
func readMetricsToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("app: PORTAL_METRICS_TOKEN_FILE: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if len(token) < 16 {
		return "", fmt.Errorf("app: PORTAL_METRICS_TOKEN_FILE %s holds %d characters; a token needs at least 16", path, len(token))
	}
	return token, nil
}

// Handler builds the portal's HTTP handler: pages, APIs, health and metrics.
func (a *App) Handler() (http.Handler, error) {
	srv, err := a.webServer()
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

// MetricsHandler serves /metrics alone, for the listener of
// PORTAL_METRICS_ADDR.
func (a *App) MetricsHandler() (http.Handler, error) {
	srv, err := a.webServer()
	if err != nil {
		return nil, err
	}
	return srv.MetricsHandler(), nil
}

// webServer builds the web layer once, so that the main and the metrics
// listener count into the same registry.
func (a *App) webServer() (*web.Server, error) {
	if a.web != nil {
		return a.web, nil
	}
	srv, err := web.New(web.Options{
		Store: a.Store, Enroll: a.Enroll, Factors: a.Factors, Users: a.Users, Prompt: a.Prompt, Policy: a.Policy, Notify: a.Notify, Box: a.Box, Clock: a.Clock, Logger: a.Log,
		BaseURL: a.Settings.BaseURL, Secure: a.Settings.Secure(), OrgName: a.Org.Name,
		Admins: a.Admins, Org: a.Org,
		Bulk: a.Bulk, Importer: a.Importer, Jobs: a.Jobs, Apps: a.Apps, Directories: a.Directories,
		DuoAPI: duo.New(duo.Options{
			Store: a.Store, Clock: a.Clock, Log: a.Log, Apps: a.Apps, Policy: a.Policy, Enroll: a.Enroll, Factors: a.Factors,
		}),
		AdminAPI: adminapi.New(adminapi.Options{
			Store: a.Store, Clock: a.Clock, Log: a.Log, Apps: a.Apps, Users: a.Users, Enroll: a.Enroll,
			Factors: a.Factors, BaseURL: a.Settings.BaseURL,
		}),
		MetricsToken: a.metricsToken, MetricsElsewhere: a.Settings.MetricsAddr != "",
		TrustedProxies: a.Settings.TrustedProxyList(),
	})
	if err != nil {
		return nil, err
	}
	a.web = srv
	return srv, nil
}

// Close hands back what this process still holds, then closes the
// database (and the GeoIP file).
func (a *App) Close() error {
	if a.Directories != nil {
		// A sync started from a page stops at its next step; its finished
		// batches are kept and the next sync goes on from there.
		a.Directories.Close()
	}
	if a.Apps != nil {
		if err := a.Apps.FlushUsage(context.Background()); err != nil {
			a.Log.Error("could not write the applications' last use", "err", err)
		}
	}
	if a.Policy != nil && a.Policy.GeoIP != nil {
		a.Policy.GeoIP.Close()
	}
	if err := a.Instance.Stop(context.Background()); err != nil {
		a.Log.Error("could not hand back this process's claims; the next start takes them back", "err", err)
	}
	return a.Store.Close()
}
