package bulk

import (
	"context"

	"enrollportal/internal/clock"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
)

// Service runs bulk enrollments.
type Service struct {
	store   store.Store
	enroll  *enroll.Service
	clock   clock.Clock
	orgName func(ctx context.Context) string
}

// Options configure a Service.
type Options struct {
	Store   store.Store
	Enroll  *enroll.Service
	Clock   clock.Clock
	OrgName func(ctx context.Context) string
}

// New returns a Service.
func New(o Options) *Service {
	return &Service{store: o.Store, enroll: o.Enroll, clock: o.Clock, orgName: o.OrgName}
}
