package notify

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// Store is what message delivery uses of the database: the outbox worker's
// claims and marks, and transactions for a retry with its audit record.
type Store interface {
	store.Transactor
	store.OutboxWorkerQueries
}

// Service is the portal's message delivery: it composes messages for the
// current organisation and runs the outbox worker.
type Service struct {
	store   Store
	clock   clock.Clock
	log     *slog.Logger
	orgName func(context.Context) string
	logoURL string

	instance    string               // this process's start id, on every claim
	transports  map[string]transport // by channel; absent = not configured
	wake        chan struct{}
	acceptMu    map[string]*sync.Mutex // by channel; see deliver
	batchSize   int
	senders     int
	lease       time.Duration
	pollEvery   time.Duration
	maxAttempts int
}

// Options configure a Service. Zero values pick the defaults.
type Options struct {
	Store Store
	Clock clock.Clock
	Log   *slog.Logger
	// OrgName returns the organisation's current name (org.Settings.Name).
	OrgName func(context.Context) string
	// LogoURL is the absolute URL of the organisation's logo for emails that
	// show it; empty for none.
	LogoURL string

	// SMTPURL (PORTAL_SMTP_URL) and MailFrom (PORTAL_MAIL_FROM): see
	// smtpTransport. Empty: emails wait in the outbox.
	SMTPURL  string
	MailFrom string
	// SMTPRootCAs replaces the system's trusted CAs for the SMTP server's
	// certificate (tests; a private CA).
	SMTPRootCAs *x509.CertPool
	// SMSURL (PORTAL_SMS_URL): see newSMSTransport. Empty: SMS wait.
	SMSURL string
	// TwilioBaseURL replaces https://api.twilio.com (tests).
	TwilioBaseURL string
	// HTTPClient posts to SMS gateways; nil for one with a 20 s timeout.
	HTTPClient *http.Client

	// Instance is this process's start id (package instance), written on
	// every claim so that a later start takes back a dead process's claims
	// at once.
	Instance string

	BatchSize   int           // messages claimed per pass
	Senders     int           // concurrent senders per pass
	Lease       time.Duration // how long a claim lasts before another worker may retry it
	PollEvery   time.Duration // how often an idle worker looks for due messages
	MaxAttempts int           // attempts before a message is marked failed
}

// New returns a Service; it fails when the SMTP or SMS URL is malformed, so
// that a typo stops the start rather than every delivery.
func New(o Options) (*Service, error) {
	s := &Service{
		store: o.Store, clock: o.Clock, log: o.Log, orgName: o.OrgName, logoURL: o.LogoURL, instance: o.Instance,
		transports: map[string]transport{}, wake: make(chan struct{}, 1),
		acceptMu:  map[string]*sync.Mutex{store.ChannelEmail: {}, store.ChannelSMS: {}},
		batchSize: orDefault(o.BatchSize, DefaultBatchSize), senders: orDefault(o.Senders, DefaultSenders),
		lease: orDefault(o.Lease, DefaultLease), pollEvery: orDefault(o.PollEvery, DefaultPollEvery),
		maxAttempts: orDefault(o.MaxAttempts, DefaultMaxAttempts),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.SMTPURL != "" {
		t, err := newSMTPTransport(o.SMTPURL, o.MailFrom, o.SMTPRootCAs, s.clock)
		if err != nil {
			return nil, err
		}
		s.transports[store.ChannelEmail] = t
	}
	if o.SMSURL != "" {
		t, err := newSMSTransport(o.SMSURL, o.TwilioBaseURL, o.HTTPClient)
		if err != nil {
			return nil, err
		}
		s.transports[store.ChannelSMS] = t
	}
	return s, nil
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Configured tells whether messages of channel are delivered (false: they
// wait in the outbox).
func (s *Service) Configured(channel string) bool {
	_, ok := s.transports[channel]
	return ok
}

// Org returns the organisation as messages present it, reading the header
// line through q (the caller's transaction, or the store).
func (s *Service) Org(ctx context.Context, q store.Queries) (Org, error) {
	return LoadOrg(ctx, q, s.orgName(ctx), s.logoURL)
}
