package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Settings is everything a subcommand may need. Every field has one flag and
// one PORTAL_* variable.
type Settings struct {
	// DB is the SQLite file (a path, or sqlite:PATH) or a PostgreSQL URL
	// (postgres://...); see IsPostgres and SQLitePath.
	DB            string
	BaseURL       string // public URL used in every link, without a trailing slash
	Addr          string // listen address of `serve`
	TLSCert       string // PEM certificate; with TLSKey, serve HTTPS
	TLSKey        string
	SecretKeyFile string // at-rest encryption key; created beside the database when absent
	SMTPURL       string
	MailFrom      string
	SMSURL        string
	GeoIPDB       string
	OrgName       string
	LogLevel      string
	// MetricsAddr, when set, is the listen address of a separate listener
	// that serves /metrics alone.
	MetricsAddr string
	// MetricsTokenFile holds the bearer token that lets callers from other
	// machines read /metrics on the main listener.
	MetricsTokenFile string
	// AuditRetention is how long audit records are kept: "400d" (days) or
	// a Go duration ("9600h"). AuditRetentionPeriod is its value.
	AuditRetention       string
	AuditRetentionPeriod time.Duration
	// ShutdownGrace is how long serve, once told to stop, waits for the
	// requests in flight and the workers' current step (a duration such as
	// "30s"; see Grace).
	ShutdownGrace string
	// TrustedProxies lists the addresses and CIDR ranges of the reverse
	// proxies or load balancers in front of the portal, comma-separated:
	// a request from one of them is taken to come from the address its
	// X-Forwarded-For names. Empty: the connection's address is the
	// client's, and the header is ignored.
	TrustedProxies string
}

type option struct {
	name, env, def, usage string
	dst                   *string
	secret                bool // also read from PORTAL_X_FILE
}

func (s *Settings) options() []option {
	return []option{
		{"db", "PORTAL_DB", "./data/portal.db", "SQLite database file (a path or sqlite:PATH), or a PostgreSQL URL postgres://user:pass@host:5432/db", &s.DB, true},
		{"base-url", "PORTAL_BASE_URL", "", "public URL of the portal (default derived from --addr)", &s.BaseURL, false},
		{"addr", "PORTAL_ADDR", "127.0.0.1:8080", "listen address", &s.Addr, false},
		{"tls-cert", "PORTAL_TLS_CERT", "", "TLS certificate (PEM)", &s.TLSCert, false},
		{"tls-key", "PORTAL_TLS_KEY", "", "TLS private key (PEM)", &s.TLSKey, false},
		{"secret-key-file", "PORTAL_SECRET_KEY_FILE", "", "key that encrypts secrets at rest (default: beside the database)", &s.SecretKeyFile, false},
		{"smtp-url", "PORTAL_SMTP_URL", "", "smtp://[user:pass@]host:port (STARTTLS), smtps:// or smtp+insecure:// (clear text allowed)", &s.SMTPURL, true},
		{"mail-from", "PORTAL_MAIL_FROM", "", "sender address of emails", &s.MailFrom, false},
		{"sms-url", "PORTAL_SMS_URL", "", "SMS gateway URL", &s.SMSURL, true},
		{"geoip-db", "PORTAL_GEOIP_DB", "", "MaxMind-format .mmdb file for location policies", &s.GeoIPDB, false},
		{"org-name", "PORTAL_ORG_NAME", "", "organisation name shown on pages and messages (default from settings, else \"Enrollment Portal\")", &s.OrgName, false},
		{"log-level", "PORTAL_LOG_LEVEL", "info", "debug, info, warn or error", &s.LogLevel, false},
		{"metrics-addr", "PORTAL_METRICS_ADDR", "", "listen address of a separate /metrics listener (default: /metrics on the main listener, to this machine or with the token)", &s.MetricsAddr, false},
		{"audit-retention", "PORTAL_AUDIT_RETENTION", "400d", "how long audit records are kept: days (400d) or a duration (9600h)", &s.AuditRetention, false},
		{"shutdown-grace", "PORTAL_SHUTDOWN_GRACE", "30s", "how long a stopping server waits for requests and workers in flight (work cut off resumes at the next start)", &s.ShutdownGrace, false},
		{"trusted-proxies", "PORTAL_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (default: none)", &s.TrustedProxies, false},
		{"metrics-token-file", "PORTAL_METRICS_TOKEN_FILE", "", "file holding a bearer token that opens /metrics on the main listener to other machines", &s.MetricsTokenFile, false},
	}
}

// Register adds every setting's flag to fs. Call Resolve after fs.Parse.
func (s *Settings) Register(fs *flag.FlagSet) {
	for _, o := range s.options() {
		fs.StringVar(o.dst, o.name, "", o.usage+" [$"+o.env+"]")
	}
}

// Resolve fills every setting not given as a flag from its variable, then
// from its default, and validates the result. getenv is os.Getenv outside
// tests.
func (s *Settings) Resolve(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range s.options() {
		if set[o.name] {
			continue
		}
		if v := getenv(o.env); v != "" {
			*o.dst = v
			continue
		}
		if o.secret {
			if path := getenv(o.env + "_FILE"); path != "" {
				raw, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("config: %s_FILE: %w", o.env, err)
				}
				*o.dst = strings.TrimSpace(string(raw))
				continue
			}
		}
		*o.dst = o.def
	}
	return s.validate()
}

// IsPostgres tells whether DB is a PostgreSQL URL (postgres:// or
// postgresql://).
func (s *Settings) IsPostgres() bool {
	return strings.HasPrefix(s.DB, "postgres://") || strings.HasPrefix(s.DB, "postgresql://")
}

// SQLitePath is the database file of a SQLite DB ("" for PostgreSQL).
func (s *Settings) SQLitePath() string {
	if s.IsPostgres() {
		return ""
	}
	return strings.TrimPrefix(s.DB, "sqlite:")
}

// DataDir is where the portal keeps its local files (instance lock files,
// import uploads awaiting apply): beside the SQLite file, or beside the key
// file when the database is PostgreSQL.
func (s *Settings) DataDir() string {
	if s.IsPostgres() {
		return filepath.Dir(s.SecretKeyFile)
	}
	return filepath.Dir(s.SQLitePath())
}

// DBName names the database in messages: the file, or the PostgreSQL URL
// without its password.
func (s *Settings) DBName() string {
	if !s.IsPostgres() {
		return s.SQLitePath()
	}
	u, err := url.Parse(s.DB)
	if err != nil {
		return "the PostgreSQL database"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.Redacted()
}

func (s *Settings) validate() error {
	if s.DB == "" {
		return errors.New("config: --db must not be empty")
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("config: PORTAL_TLS_CERT and PORTAL_TLS_KEY go together: set both or neither")
	}
	if s.IsPostgres() {
		// Every instance on the database must seal with the same key, so
		// it is named, not created beside a database file.
		if s.SecretKeyFile == "" {
			return errors.New("config: a PostgreSQL database needs PORTAL_SECRET_KEY_FILE (--secret-key-file): the at-rest key file, the same on every portal instance")
		}
	} else if s.SQLitePath() == "" {
		return errors.New("config: --db sqlite: needs a file path after the colon")
	}
	if s.SecretKeyFile == "" {
		s.SecretKeyFile = filepath.Join(filepath.Dir(s.SQLitePath()), "secret.key")
	}
	if s.BaseURL == "" {
		s.BaseURL = defaultBaseURL(s.Addr, s.TLSCert != "")
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("config: base URL %q must look like https://mfa.example.com", s.BaseURL)
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log level %q must be debug, info, warn or error", s.LogLevel)
	}
	if s.AuditRetention == "" {
		s.AuditRetention = "400d"
	}
	if s.AuditRetentionPeriod, err = parseRetention(s.AuditRetention); err != nil {
		return err
	}
	if d, err := time.ParseDuration(s.ShutdownGrace); err != nil || d < 0 {
		return fmt.Errorf("config: PORTAL_SHUTDOWN_GRACE %q must be a duration such as 30s or 2m", s.ShutdownGrace)
	}
	for _, p := range s.TrustedProxyList() {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("config: PORTAL_TRUSTED_PROXIES entry %q must be an IP address (10.0.0.5) or a CIDR range (10.0.0.0/24)", p)
		}
	}
	return nil
}

// TrustedProxyList is TrustedProxies split at commas, without blanks.
func (s Settings) TrustedProxyList() []string {
	var out []string
	for _, p := range strings.Split(s.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// minAuditRetention keeps a typo ("40m" for 40 days) from wiping the log.
const minAuditRetention = 24 * time.Hour

// parseRetention reads a number of days ("400d") or a Go duration.
func parseRetention(v string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("config: audit retention %q must be a number of days such as 400d, or a duration such as 9600h", v)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("config: audit retention %q must be a number of days such as 400d, or a duration such as 9600h", v)
		}
	}
	if d < minAuditRetention {
		return 0, fmt.Errorf("config: audit retention %q is shorter than a day; audit records must be kept at least that long", v)
	}
	return d, nil
}

// Grace is ShutdownGrace as a duration: 30 s when unset.
func (s Settings) Grace() time.Duration {
	d, err := time.ParseDuration(s.ShutdownGrace)
	if err != nil || d < 0 {
		return 30 * time.Second
	}
	return d
}

func defaultBaseURL(addr string, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" {
		// localhost, not 127.0.0.1: browsers treat it as a secure context,
		// and WebAuthn refuses IP addresses as relying party ids.
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Secure reports whether the portal is reached over HTTPS, which decides the
// Secure flag of cookies.
func (s *Settings) Secure() bool { return strings.HasPrefix(s.BaseURL, "https://") }

// Host returns the base URL's host[:port], the api_host of Duo clients.
func (s *Settings) Host() string {
	u, _ := url.Parse(s.BaseURL)
	return u.Host
}

// Hostname returns the base URL's host without port: the WebAuthn relying
// party id.
func (s *Settings) Hostname() string {
	u, _ := url.Parse(s.BaseURL)
	return u.Hostname()
}

// ParseInterleaved parses args with fs, allowing flags before and after
// positional arguments, and returns the positional ones in order.
func ParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
