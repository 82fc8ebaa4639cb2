package bulk

import (
	"context"

	"enrollportal/internal/clock"
	"enrollportal/internal/enroll"
	"enrollportal/internal/jobs"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// Store is what bulk enrollment uses of the database: users and their
// factors to decide each row, the global policy, saved message texts, and
// the job with its steps' transactions.
type Store interface {
	store.Transactor
	store.JobQueries
	store.TemplateQueries
	store.PolicyQueries
	rowReader
}

// rowReader reads what decides a row: the user and their factors.
type rowReader interface {
	store.UserQueries
	policy.FactorReader
}

// Service runs bulk enrollments.
type Service struct {
	store   Store
	enroll  *enroll.Service
	clock   clock.Clock
	orgName func(ctx context.Context) string
	jobs    *jobs.Runner
}

// Options configure a Service.
type Options struct {
	Store   Store
	Enroll  *enroll.Service
	Clock   clock.Clock
	OrgName func(ctx context.Context) string
	// Jobs runs the sends; New registers the bulk kind with it.
	Jobs *jobs.Runner
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, enroll: o.Enroll, clock: o.Clock, orgName: o.OrgName, jobs: o.Jobs}
	o.Jobs.Register(JobKind, jobs.Kind{Open: s.openSend, Describe: describe})
	return s
}
