package notify

import (
	"context"
	"log/slog"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// Service is the portal's message delivery: it composes messages for the
// current organisation and runs the outbox worker.
type Service struct {
	store   store.Store
	clock   clock.Clock
	log     *slog.Logger
	orgName func(context.Context) string
	logoURL string
}

// Options configure a Service.
type Options struct {
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
	// OrgName returns the organisation's current name (org.Settings.Name).
	OrgName func(context.Context) string
	// LogoURL is the absolute URL of the organisation's logo for emails that
	// show it; empty for none.
	LogoURL string
}

// New returns a Service.
func New(o Options) *Service {
	return &Service{store: o.Store, clock: o.Clock, log: o.Log, orgName: o.OrgName, logoURL: o.LogoURL}
}

// Org returns the organisation as messages present it, reading the header
// line through q (the caller's transaction, or the store).
func (s *Service) Org(ctx context.Context, q store.Queries) (Org, error) {
	return LoadOrg(ctx, q, s.orgName(ctx), s.logoURL)
}
