package store

import (
	"context"
	"time"
)

// Job statuses.
const (
	JobRunning = "running" // not finished: applied up to Cursor, the rest to come
	JobDone    = "done"
	JobFailed  = "failed" // stopped for good on an error an admin must look at
)

// Job is a long bulk change (a bulk enrollment, an import) applied in short
// transactions. Every step commits its rows together with the job's new
// Cursor and Result, so after a crash the job goes on from the first row not
// applied, and no row is applied twice.
type Job struct {
	ID     int64
	Kind   string // which package runs it ("bulk_send", "import_apply")
	Status string
	Title  string // what an admin sees, e.g. "Import of users.csv"
	// Payload is the kind's input (JSON), written once at the start.
	Payload []byte
	Total   int // rows in all
	Cursor  int // rows applied (or skipped) so far
	// Result is the kind's running counts (JSON), updated by every step.
	Result    []byte
	LastError string
	// Skipped are rows the database refused when they were applied (the
	// data changed since the preview); the job went on without them.
	Skipped []SkippedRow
	// Owner is the start id of the process running the job; empty when no
	// process holds it. LeaseUntil ends its hold should that process vanish
	// without a trace (another host, no instance row).
	Owner      string
	LeaseUntil *time.Time
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// SkippedRow is one row a job could not apply, and why, in words.
type SkippedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// JobQueries read and write jobs. Every write but CreateJob is fenced by the
// owner: a process that lost its hold on a job can no longer change it.
type JobQueries interface {
	// CreateJob inserts j (running, not held) and sets its ID.
	CreateJob(ctx context.Context, j *Job) error
	JobByID(ctx context.Context, id int64) (Job, error)
	// ClaimJob holds for owner, until until, the given job (id > 0) or the
	// oldest running job (id 0) that no process holds or whose lease ended at
	// or before now. ErrNotFound when there is none.
	ClaimJob(ctx context.Context, id int64, owner string, now, until time.Time) (Job, error)
	// SaveJob writes the job's status, cursor, result, skipped rows, error,
	// lease and times when owner still holds it; it reports false otherwise.
	SaveJob(ctx context.Context, j Job) (bool, error)
	// ReleaseJob lets go of a running job that owner holds, for another
	// process (or the next start) to go on with.
	ReleaseJob(ctx context.Context, id int64, owner string) error
	// RecentJobs lists the running jobs and the last finished ones, newest
	// first.
	RecentJobs(ctx context.Context, limit int) ([]Job, error)
}

// Instance is one running portal process. Its ID (the start id) is written
// on every claim the process takes.
type Instance struct {
	ID          string
	Host        string
	PID         int
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// InstanceQueries record the running processes and take back the claims of
// dead ones.
type InstanceQueries interface {
	RegisterInstance(ctx context.Context, in Instance) error
	// Heartbeat records that the instance is alive at at.
	Heartbeat(ctx context.Context, id string, at time.Time) error
	Instances(ctx context.Context) ([]Instance, error)
	// ReleaseInstances hands back everything the given (dead or stopping)
	// instances hold: their outbox claims become due at now, their jobs free
	// to claim, their leases free to take; and forgets the instances. It returns how many messages and
	// jobs it handed back.
	ReleaseInstances(ctx context.Context, ids []string, now time.Time) (messages, jobs int, err error)
}
