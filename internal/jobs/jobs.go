package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// Defaults of the runner.
const (
	// DefaultLease is how long a hold on a job lasts without a step; every
	// step renews it. It only matters for a process that vanished without a
	// trace: dead processes on the same host are found at once.
	DefaultLease = 2 * time.Minute
	// DefaultPollEvery is how often an idle runner looks for jobs that
	// another process started or left behind.
	DefaultPollEvery = 2 * time.Second
	// maxTries is how many times a failing step is tried (each time on a
	// fresh task) before the job is marked failed.
	maxTries = 3
	// MaxSkipped bounds the rows a job may skip; past it the job fails,
	// since the data has clearly moved under it.
	MaxSkipped = 200
)

// Task applies the rows of one job, a batch per Step. It may hold state
// between steps (an open file, indexes), and is thrown away after a step
// that failed: the next one is opened from the job as last committed.
type Task interface {
	// Step applies the next batch through q, the step's transaction, and
	// moves j.Cursor (and j.Result) past it. It reports whether the job is
	// finished; the last step writes the job's closing audit record.
	Step(ctx context.Context, q store.Queries, j *store.Job) (finished bool, err error)
	// Close lets go of what the task holds.
	Close()
}

// Kind is one kind of job.
type Kind struct {
	// Open makes the task that goes on with j from j.Cursor.
	Open func(ctx context.Context, j store.Job) (Task, error)
	// Finished runs once after the job is done or failed, outside any
	// transaction (e.g. to remove an import's plan).
	Finished func(j store.Job)
	// Describe says in one sentence what the job did (or has done so far).
	Describe func(j store.Job) string
}

// RowError is a row the database refused when a step came to it. The step
// is rolled back, the row is recorded as skipped, and the job goes on
// without it.
type RowError struct {
	Line   int
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("jobs: line %d: %s", e.Line, e.Reason) }

// errLostHold means another process took the job over (this one was taken
// for dead); the step is rolled back and this process lets the job go.
var errLostHold = errors.New("jobs: the job is held by another process")

// Store is what the job runner uses of the database: the jobs table, and a
// transaction for each step.
type Store interface {
	store.Transactor
	store.JobQueries
}

// Runner runs the jobs of this process, one at a time.
type Runner struct {
	store     Store
	clock     clock.Clock
	log       *slog.Logger
	owner     string
	lease     time.Duration
	pollEvery time.Duration
	afterStep func(store.Job)
	wake      chan struct{}

	mu    sync.Mutex
	kinds map[string]Kind
}

// Options configure a Runner.
type Options struct {
	Store Store
	Clock clock.Clock
	Log   *slog.Logger
	// Owner is this process's start id (see package instance).
	Owner     string
	Lease     time.Duration
	PollEvery time.Duration
	// AfterStep, when set, is called after every committed step (tests use
	// it to kill the process part-way).
	AfterStep func(store.Job)
}

// New returns a Runner.
func New(o Options) *Runner {
	r := &Runner{store: o.Store, clock: o.Clock, log: o.Log, owner: o.Owner, lease: o.Lease, pollEvery: o.PollEvery,
		afterStep: o.AfterStep, wake: make(chan struct{}, 1), kinds: map[string]Kind{}}
	if r.clock == nil {
		r.clock = clock.Real{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	if r.pollEvery <= 0 {
		r.pollEvery = DefaultPollEvery
	}
	return r
}

// Log is the runner's log, for a kind's Finished to report into.
func (r *Runner) Log() *slog.Logger { return r.log }

// Register adds a kind of job.
func (r *Runner) Register(name string, k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds[name] = k
}

func (r *Runner) kind(name string) (Kind, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Create writes a new job through q (the caller's transaction, with its
// audit record), for a runner to pick up; call Wake after the commit.
func Create(ctx context.Context, q store.Queries, j *store.Job) error {
	return q.CreateJob(ctx, j)
}

// Wake asks the running loop to look for jobs now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs jobs until ctx ends: the ones started here, those another
// process started, and those a dead process left. When ctx ends it stops
// after the step in progress and lets the job go, to be taken up at the
// next start.
func (r *Runner) Run(ctx context.Context) {
	for {
		j, err := r.store.ClaimJob(ctx, 0, r.owner, r.clock.Now(), r.clock.Now().Add(r.lease))
		switch {
		case err == nil:
			r.run(ctx, j)
			continue
		case !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil:
			r.log.Error("jobs: claim", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-time.After(r.pollEvery):
		}
	}
}

// Finish runs the job here until it is finished, or waits while another
// process runs it; it returns the job as it ended. Commands and tests use
// it to apply a job in the caller's goroutine.
func (r *Runner) Finish(ctx context.Context, id int64) (store.Job, error) {
	for {
		j, err := r.store.ClaimJob(ctx, id, r.owner, r.clock.Now(), r.clock.Now().Add(r.lease))
		if err == nil {
			r.run(ctx, j)
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.Job{}, err
		}
		j, err = r.store.JobByID(ctx, id)
		if err != nil || j.Status != store.JobRunning {
			return j, err
		}
		if err := ctx.Err(); err != nil {
			return j, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Wait waits up to d for the job to finish, and returns it as it is then.
func (r *Runner) Wait(ctx context.Context, id int64, d time.Duration) (store.Job, error) {
	deadline := time.Now().Add(d)
	for {
		j, err := r.store.JobByID(ctx, id)
		if err != nil || j.Status != store.JobRunning || !time.Now().Before(deadline) {
			return j, err
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// run applies the job held by this process until it is finished or ctx
// ends.
func (r *Runner) run(ctx context.Context, j store.Job) {
	k, ok := r.kind(j.Kind)
	if !ok {
		// A job of a kind this binary does not know (a newer version
		// started it): leave it for one that does.
		r.log.Error("jobs: unknown kind; leaving the job alone", "job", j.ID, "kind", j.Kind)
		r.release(j)
		return
	}
	r.log.Info("jobs: running", "job", j.ID, "kind", j.Kind, "cursor", j.Cursor, "total", j.Total)
	var task Task
	defer func() {
		if task != nil {
			task.Close()
		}
	}()
	tries := 0
	for {
		if ctx.Err() != nil {
			r.release(j)
			return
		}
		var err error
		if task == nil {
			task, err = k.Open(ctx, j)
		}
		var finished bool
		if err == nil {
			j, finished, err = r.step(ctx, task, j)
		}
		var rowErr *RowError
		switch {
		case err == nil:
			tries = 0
			if r.afterStep != nil {
				r.afterStep(j)
			}
			if finished {
				r.log.Info("jobs: done", "job", j.ID, "kind", j.Kind, "rows", j.Cursor, "skipped", len(j.Skipped))
				r.finished(k, j)
				return
			}
			continue
		case errors.Is(err, errLostHold):
			r.log.Warn("jobs: another process took the job over", "job", j.ID)
			return
		case errors.As(err, &rowErr) && len(j.Skipped) < MaxSkipped:
			j, err = r.skip(ctx, j, rowErr)
			if err == nil {
				r.log.Warn("jobs: skipped a row the database refused", "job", j.ID, "line", rowErr.Line, "reason", rowErr.Reason)
				task.Close()
				task = nil
				continue
			}
		}
		if task != nil {
			task.Close()
			task = nil
		}
		if ctx.Err() != nil {
			r.release(j)
			return
		}
		tries++
		if tries < maxTries {
			r.log.Warn("jobs: step failed; trying again", "job", j.ID, "err", err)
			time.Sleep(time.Duration(tries) * 200 * time.Millisecond)
			continue
		}
		r.log.Error("jobs: failed", "job", j.ID, "kind", j.Kind, "err", err)
		r.fail(j, err)
		r.finished(k, j)
		return
	}
}

// step runs one step and saves the job in its transaction. A step, once
// begun, completes even when ctx ends (it is short), so that a stopping
// process records the batch it was applying.
func (r *Runner) step(ctx context.Context, task Task, j store.Job) (store.Job, bool, error) {
	stepCtx := context.WithoutCancel(ctx)
	next := j
	var finished bool
	err := r.store.InTx(stepCtx, func(q store.Queries) error {
		next = j
		var err error
		if finished, err = task.Step(stepCtx, q, &next); err != nil {
			return err
		}
		now := r.clock.Now()
		next.UpdatedAt = now
		until := now.Add(r.lease)
		next.LeaseUntil = &until
		if finished {
			next.Status, next.FinishedAt, next.LeaseUntil = store.JobDone, &now, nil
		}
		held, err := q.SaveJob(stepCtx, next)
		if err != nil {
			return err
		}
		if !held {
			return errLostHold
		}
		return nil
	})
	if err != nil {
		return j, false, err
	}
	return next, finished, nil
}

// skip records a refused row in its own transaction.
func (r *Runner) skip(ctx context.Context, j store.Job, rowErr *RowError) (store.Job, error) {
	next := j
	next.Skipped = append(append([]store.SkippedRow(nil), j.Skipped...), store.SkippedRow{Line: rowErr.Line, Reason: rowErr.Reason})
	next.UpdatedAt = r.clock.Now()
	err := r.store.InTx(context.WithoutCancel(ctx), func(q store.Queries) error {
		held, err := q.SaveJob(ctx, next)
		if err == nil && !held {
			err = errLostHold
		}
		return err
	})
	if err != nil {
		return j, err
	}
	return next, nil
}

func (r *Runner) fail(j store.Job, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	now := r.clock.Now()
	j.Status, j.FinishedAt, j.UpdatedAt, j.LeaseUntil = store.JobFailed, &now, now, nil
	j.LastError = cause.Error()
	var rowErr *RowError
	if errors.As(cause, &rowErr) {
		j.LastError = fmt.Sprintf("more than %d lines were refused; the last: line %d: %s", MaxSkipped, rowErr.Line, rowErr.Reason)
	}
	err := r.store.InTx(ctx, func(q store.Queries) error {
		_, err := q.SaveJob(ctx, j)
		return err
	})
	if err != nil {
		r.log.Error("jobs: could not record the failure", "job", j.ID, "err", err)
	}
}

func (r *Runner) finished(k Kind, j store.Job) {
	if k.Finished != nil {
		k.Finished(j)
	}
}

// release lets go of a job this process stops running before its end.
func (r *Runner) release(j store.Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.store.ReleaseJob(ctx, j.ID, r.owner); err != nil {
		r.log.Error("jobs: could not let go of the job; it is taken up after its lease", "job", j.ID, "err", err)
	}
}

// View is what an admin sees of a job.
type View struct {
	store.Job
	// Summary says what the job did, or has done so far, in one sentence.
	Summary string
	Percent int
}

// Running tells whether the job is still to finish.
func (v View) Running() bool { return v.Status == store.JobRunning }

// ViewOf is the job with its summary.
func (r *Runner) ViewOf(j store.Job) View {
	v := View{Job: j}
	if k, ok := r.kind(j.Kind); ok && k.Describe != nil {
		v.Summary = k.Describe(j)
	}
	if j.Total > 0 {
		v.Percent = min(100, j.Cursor*100/j.Total)
	}
	return v
}

// Job returns one job as an admin sees it.
func (r *Runner) Job(ctx context.Context, id int64) (View, error) {
	j, err := r.store.JobByID(ctx, id)
	if err != nil {
		return View{}, err
	}
	return r.ViewOf(j), nil
}

// Recent returns the running jobs and the last finished ones, newest first.
func (r *Runner) Recent(ctx context.Context, limit int) ([]View, error) {
	js, err := r.store.RecentJobs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(js))
	for _, j := range js {
		out = append(out, r.ViewOf(j))
	}
	return out, nil
}
