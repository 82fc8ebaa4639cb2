package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/bulk"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Progress is how far a run has got, written to its record as it goes so
// that any portal process can show it: entries read from the directory,
// entries compared with the portal's users, and users written of those
// the plan writes.
type Progress struct {
	Read     int `json:"read"`
	Compared int `json:"compared"`
	Written  int `json:"written"`
	ToWrite  int `json:"to_write"`
}

// Figures are what a run's record keeps: its progress, and once it has
// finished what it did, with the first names of each kind of change.
type Figures struct {
	Progress
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Disabled  int `json:"disabled"`
	Removed   int `json:"removed"`
	Phones    int `json:"phones"`
	Groups    int `json:"groups"`
	Conflicts int `json:"conflicts"`
	Invalid   int `json:"invalid"`
	// Invited is how many new users the run sent an enrollment email, by
	// the bulk send job EnrollJob.
	Invited   int   `json:"invited"`
	EnrollJob int64 `json:"enroll_job,omitempty"`

	CreatedNames      []string   `json:"created_names,omitempty"`
	UpdatedNames      []string   `json:"updated_names,omitempty"`
	DisabledNames     []string   `json:"disabled_names,omitempty"`
	RemovedNames      []string   `json:"removed_names,omitempty"`
	UsernameConflicts []Conflict `json:"username_conflicts,omitempty"`
}

// Run is a run's record with its figures read.
type Run struct {
	store.DirectoryRun
	Figures Figures
}

// Running reports whether the run is still going.
func (r Run) Running() bool { return r.Status == statusRunning }

// Run statuses.
const (
	statusRunning           = "running"
	statusSucceeded         = "succeeded"
	statusFailed            = "failed"
	statusNeedsConfirmation = "needs-confirmation"
)

func runOf(r store.DirectoryRun) Run {
	out := Run{DirectoryRun: r}
	_ = json.Unmarshal([]byte(r.Counts), &out.Figures) // "{}" before the first progress
	return out
}

// tracker writes a run's progress to its record.
type tracker struct {
	s   *Service
	run store.DirectoryRun
	p   Progress
}

// update changes the progress and writes it. Progress is for people
// watching: a write that fails is not worth failing the run for, and the
// record is written in full when the run ends.
func (t *tracker) update(ctx context.Context, f func(*Progress)) {
	if t == nil {
		return
	}
	f(&t.p)
	b, _ := json.Marshal(Figures{Progress: t.p})
	r := t.run
	r.Status, r.Counts = statusRunning, string(b)
	_ = t.s.Store.FinishDirectoryRun(context.WithoutCancel(ctx), r)
	if t.s.AfterProgress != nil {
		t.s.AfterProgress(t.p)
	}
}

// started is a run that holds its directory's lease and has a record.
type started struct {
	d      store.Directory
	set    Settings
	pw     string
	opts   Options
	holder string
	tr     *tracker
}

// errNotDue is begin's answer when a scheduled directory was synced since
// the caller looked (by another process, or by an admin).
var errNotDue = errors.New("directory: not due")

// due reports whether a scheduled sync of d is due at now.
func due(d store.Directory, set Settings, now time.Time) bool {
	if set.ScheduleMinutes <= 0 {
		return false
	}
	return d.LastSyncAt == nil || !now.Before(d.LastSyncAt.Add(time.Duration(set.ScheduleMinutes)*time.Minute))
}

// begin takes the directory's lease and records a running run. With
// scheduled, the directory must still be due once the lease is held, so
// that two processes that both saw it due run it once.
func (s *Service) begin(ctx context.Context, name string, opts Options, scheduled bool) (*started, error) {
	d, set, pw, err := s.load(ctx, name)
	if err != nil {
		return nil, err
	}
	holder := secret.NewID("L", 20)
	now := s.Clock.Now()
	ok, err := s.Store.TakeDirectoryLease(ctx, d.ID, holder, now, now.Add(leaseFor))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBusy
	}
	fail := func(err error) (*started, error) {
		_ = s.Store.ReleaseDirectoryLease(context.WithoutCancel(ctx), d.ID, holder)
		return nil, err
	}
	if scheduled {
		if d, err = s.Store.DirectoryByName(ctx, name); err != nil {
			return fail(err)
		}
		if !due(d, set, now) {
			return fail(errNotDue)
		}
	}
	// A run still marked running under a lease we now hold was cut off
	// with its process: say so, rather than show it running for ever.
	runs, err := s.Store.DirectoryRuns(ctx, d.ID, 20)
	if err != nil {
		return fail(err)
	}
	for _, r := range runs {
		if r.Status == statusRunning {
			r.Status, r.FinishedAt = statusFailed, &now
			r.Error = "the portal process running this sync stopped before it finished; what its finished batches wrote is kept, and the next sync goes on from there"
			if err := s.Store.FinishDirectoryRun(ctx, r); err != nil {
				return fail(err)
			}
		}
	}
	run := store.DirectoryRun{DirectoryID: d.ID, Kind: "full", Status: statusRunning, Counts: "{}", StartedAt: now}
	if err := s.Store.CreateDirectoryRun(ctx, &run); err != nil {
		return fail(err)
	}
	return &started{d: d, set: set, pw: pw, opts: opts, holder: holder, tr: &tracker{s: s, run: run}}, nil
}

// finish reads, plans and writes a begun run, records its outcome and
// lets go of the lease.
func (s *Service) finish(ctx context.Context, st *started) (Result, error) {
	d, run := st.d, st.tr.run
	defer func() {
		// Released even when ctx has ended, so that the next run does not
		// wait for the lease to expire.
		_ = s.Store.ReleaseDirectoryLease(context.WithoutCancel(ctx), d.ID, st.holder)
	}()
	res, cursor, created, err := s.syncLocked(ctx, d, st.set, st.pw, st.opts, st.holder, st.tr)
	res.RunID = run.ID
	bg := context.WithoutCancel(ctx)
	var fullAt *time.Time
	switch {
	case errors.Is(err, ErrNeedsConfirmation):
		res.Status = statusNeedsConfirmation
		run.Error = err.Error()
	case err != nil:
		res.Status = statusFailed
		run.Error = err.Error()
		cursor = ""
	default:
		res.Status = statusSucceeded
		if st.set.EnrollmentEmails {
			if ierr := s.invite(bg, d, created, &res); ierr != nil {
				run.Error = "the users were synced, but their enrollment emails could not be queued: " + ierr.Error()
				err = ierr
			}
		}
	}
	finish := s.Clock.Now()
	run.FinishedAt = &finish
	if res.Full {
		run.Kind = "full"
		if res.Status == statusSucceeded {
			fullAt = &finish
		}
	} else {
		run.Kind = "incremental"
	}
	fig := Figures{Progress: st.tr.p, Created: res.Created, Updated: res.Updated, Disabled: res.Disabled, Removed: res.Removed,
		Phones: res.Phones, Groups: res.Groups, Conflicts: len(res.Conflicts), Invalid: len(res.InvalidValues),
		Invited: res.Invited, EnrollJob: res.EnrollJob, CreatedNames: res.CreatedNames, UpdatedNames: res.UpdatedNames,
		DisabledNames: res.DisabledNames, RemovedNames: res.RemovedNames, UsernameConflicts: res.UsernameConflicts}
	counts, _ := json.Marshal(fig)
	run.Counts = string(counts)
	run.Report = strings.Join(append(append([]string{}, res.Conflicts...), res.InvalidValues...), "\n")
	run.Status = res.Status
	if ferr := s.Store.FinishDirectoryRun(bg, run); ferr != nil && err == nil {
		err = ferr
	}
	if ferr := s.Store.SetDirectorySynced(bg, d.ID, finish, res.Status, cursor, fullAt); ferr != nil && err == nil {
		err = ferr
	}
	return res, err
}

// invite sends the users a run created, who have an email and are
// active, an enrollment email with the saved bulk enrollment text, as one
// bulk send job (through the outbox; a user enrolled by the time the job
// reaches them is skipped).
func (s *Service) invite(ctx context.Context, d store.Directory, created []store.User, res *Result) error {
	if s.Bulk == nil {
		return errors.New("directory: enrollment emails are on, but this portal has no bulk sender")
	}
	var rows []bulk.Row
	for _, u := range created {
		if u.Email != "" && u.Status == store.StatusActive {
			rows = append(rows, bulk.Row{Line: len(rows) + 1, Username: u.Username, Email: u.Email})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	text, err := s.Bulk.Text(ctx)
	if err != nil {
		return err
	}
	id, err := s.Bulk.Start(ctx, rows, text, audit.Who{Type: audit.ActorSystem, Name: "directory:" + d.Name})
	if errors.Is(err, bulk.ErrNothingToSend) {
		return nil
	}
	if err != nil {
		return err
	}
	res.Invited, res.EnrollJob = len(rows), id
	return nil
}

// Sync runs (or previews) a sync of the named directory and returns when
// it has finished.
func (s *Service) Sync(ctx context.Context, name string, opts Options) (Result, error) {
	if opts.DryRun {
		d, set, pw, err := s.load(ctx, name)
		if err != nil {
			return Result{}, err
		}
		res, _, err := s.read(ctx, d, set, pw, opts, nil)
		return res, err
	}
	st, err := s.begin(ctx, name, opts, false)
	if err != nil {
		return Result{}, err
	}
	return s.finish(ctx, st)
}

// Start begins a sync of the named directory and returns its run id
// while it goes on in the background, where the directory's page follows
// its progress. ErrBusy when another run holds the directory; a dry run
// is Sync's (it writes nothing and has no record).
func (s *Service) Start(ctx context.Context, name string, opts Options) (int64, error) {
	if opts.DryRun {
		return 0, errors.New("directory: a preview is not started in the background")
	}
	st, err := s.begin(ctx, name, opts, false)
	if err != nil {
		return 0, err
	}
	bg := s.background()
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		_, _ = s.finish(bg, st) // the outcome is in the run's record
	}()
	return st.tr.run.ID, nil
}

// background is the context of the runs started in the background: Close
// ends it.
func (s *Service) background() context.Context {
	s.bgOnce.Do(func() { s.bgCtx, s.bgStop = context.WithCancel(context.Background()) })
	return s.bgCtx
}

// Close stops the runs started in the background (each fails at its next
// step; its finished batches are kept) and waits for them to record it.
func (s *Service) Close() {
	s.background()
	s.bgStop()
	s.running.Wait()
}

// Wait waits for the runs started in the background to finish.
func (s *Service) Wait() { s.running.Wait() }

// RunDue runs, one after the other, the scheduled syncs that are due; a
// directory another process is syncing is left to it. It returns how
// many it ran; their outcomes are in their records.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	list, err := s.Store.Directories(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range list {
		set, err := decodeSettings(d.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
			continue
		}
		if !due(d, set, s.Clock.Now()) {
			continue
		}
		st, err := s.begin(ctx, d.Name, Options{}, true)
		if errors.Is(err, ErrBusy) || errors.Is(err, errNotDue) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
			continue
		}
		n++
		if _, err := s.finish(ctx, st); err != nil && s.Log != nil {
			s.Log.Warn("scheduled directory sync failed", "directory", d.Name, "err", err)
		}
	}
	if s.purgeDue(s.Clock.Now()) {
		if err := s.PurgeTrash(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// purgeEvery is how often the scheduler looks for users whose time in a
// trash is over (a sync purges them too): the look reads every directory
// user, so not every minute.
const purgeEvery = time.Hour

// purgeDue reports whether this process's last look at the trash is
// purgeEvery ago, and if so counts this one.
func (s *Service) purgeDue(now time.Time) bool {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	if !s.lastPurge.IsZero() && now.Sub(s.lastPurge) < purgeEvery {
		return false
	}
	s.lastPurge = now
	return true
}

// PurgeTrash deletes, with their devices, the users whose 7 days in a
// directory's trash are over, whether or not the directory is synced, a
// transaction a batch under the directory's lease, each with an audit
// record; a directory a run holds is left to that run.
func (s *Service) PurgeTrash(ctx context.Context) error {
	list, err := s.Store.Directories(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range list {
		if err := s.purgeDirectory(ctx, d); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) purgeDirectory(ctx context.Context, d store.Directory) error {
	linked, err := s.Store.DirectoryUsers(ctx, d.ID)
	if err != nil {
		return err
	}
	cutoff := s.Clock.Now().Add(-TrashDays * 24 * time.Hour)
	var due []store.DirectoryUser
	for _, du := range linked {
		if du.TrashedAt != nil && !du.TrashedAt.After(cutoff) {
			due = append(due, du)
		}
	}
	if len(due) == 0 {
		return nil
	}
	holder := secret.NewID("L", 20)
	now := s.Clock.Now()
	ok, err := s.Store.TakeDirectoryLease(ctx, d.ID, holder, now, now.Add(leaseFor))
	if err != nil || !ok {
		return err
	}
	defer func() { _ = s.Store.ReleaseDirectoryLease(context.WithoutCancel(ctx), d.ID, holder) }()
	w := &writer{s: s, d: d, who: audit.Who{Type: audit.ActorSystem, Name: "directory:" + d.Name}, holder: holder}
	return w.inTxs(ctx, len(due), nil, func(q store.Queries, from, to int) error {
		return w.purge(ctx, q, due[from:to])
	}, nil)
}

// scheduleTick is how often the scheduler looks for due directories; a
// schedule is in whole minutes.
const scheduleTick = time.Minute

// Run runs the scheduled syncs until ctx ends (portal serve runs it on
// every instance; the directory lease lets one of them run each sync).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(scheduleTick)
	defer t.Stop()
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("scheduled directory syncs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Latest returns the newest run of the named directory, for its page's
// live progress; ok is false before the first run.
func (s *Service) Latest(ctx context.Context, name string) (Run, bool, error) {
	d, err := s.Store.DirectoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Run{}, false, ErrNotFound
	}
	if err != nil {
		return Run{}, false, err
	}
	runs, err := s.Store.DirectoryRuns(ctx, d.ID, 1)
	if err != nil || len(runs) == 0 {
		return Run{}, false, err
	}
	return runOf(runs[0]), true, nil
}

// background runs of a Service.
type backgroundRuns struct {
	bgOnce  sync.Once
	bgCtx   context.Context
	bgStop  context.CancelFunc
	running sync.WaitGroup

	purgeMu   sync.Mutex
	lastPurge time.Time
}
