package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/jobs"
	"enrollportal/internal/notify"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// JobKind names bulk enrollment jobs.
const JobKind = "bulk_send"

// stepRows is how many rows one step of a send applies in one transaction:
// a row writes a user (new ones), a link, an email and their audit records,
// so 100 rows keep a step to a few tens of milliseconds, which is the
// longest a login waits behind a send.
const stepRows = 100

// sendPayload is a send's input, kept in its job record.
type sendPayload struct {
	Rows []Row       `json:"rows"`
	Text notify.Text `json:"text"`
	Who  audit.Who   `json:"who"`
}

// Start begins a send as a job: the rows are applied in steps of 100, each
// one transaction (new users created, every user not enrolled under
// the global policy given a fresh 30-day link and one email with text). Each row is
// decided again in its step, so a user who enrolled since the preview is
// skipped, not sent a link. An existing user's email on file becomes the
// pasted one (audited). A job always finishes: after a crash, the next
// start goes on from the first row not applied (see package jobs).
func (s *Service) Start(ctx context.Context, rows []Row, text notify.Text, who audit.Who) (int64, error) {
	if problems := notify.ValidateText(notify.KindEnrollment, text); len(problems) > 0 {
		return 0, &InvalidTextError{Problems: problems}
	}
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		return 0, fmt.Errorf("bulk: send: %w", err)
	}
	sendable := false
	for _, row := range rows {
		pr, _, err := outcomeOf(ctx, s.store, methods, row)
		if err != nil {
			return 0, fmt.Errorf("bulk: send: %w", err)
		}
		if pr.Outcome != OutcomeSkip {
			sendable = true
			break
		}
	}
	if !sendable {
		return 0, ErrNothingToSend
	}
	payload, err := json.Marshal(sendPayload{Rows: rows, Text: text, Who: who})
	if err != nil {
		return 0, fmt.Errorf("bulk: send: %w", err)
	}
	j := store.Job{Kind: JobKind, Title: fmt.Sprintf("Bulk enrollment of %d %s", len(rows), plural(len(rows), "user", "users")),
		Payload: payload, Total: len(rows), CreatedBy: who.Name, CreatedAt: s.clock.Now()}
	if err := s.store.CreateJob(ctx, &j); err != nil {
		return 0, fmt.Errorf("bulk: send: %w", err)
	}
	s.jobs.Wake()
	return j.ID, nil
}

// Begin starts a send and waits up to wait for it to finish: a small send
// is done by then, and the job says what it did; a larger one goes on in
// the background (the job runner of `portal serve`) while the admin page
// shows its progress.
func (s *Service) Begin(ctx context.Context, rows []Row, text notify.Text, who audit.Who, wait time.Duration) (store.Job, error) {
	id, err := s.Start(ctx, rows, text, who)
	if err != nil {
		return store.Job{}, err
	}
	j, err := s.jobs.Wait(ctx, id, wait)
	if err != nil {
		return store.Job{}, fmt.Errorf("bulk: send: %w", err)
	}
	return j, nil
}

// Send starts a send and applies it in the caller's goroutine; it returns
// what the send did. Commands and tests use it; the admin page starts the
// send and shows its progress.
func (s *Service) Send(ctx context.Context, rows []Row, text notify.Text, who audit.Who) (Report, error) {
	id, err := s.Start(ctx, rows, text, who)
	if err != nil {
		return Report{}, err
	}
	j, err := s.jobs.Finish(ctx, id)
	if err != nil {
		return Report{}, fmt.Errorf("bulk: send: %w", err)
	}
	if j.Status == store.JobFailed {
		return ReportOf(j), fmt.Errorf("bulk: send: %s", j.LastError)
	}
	return ReportOf(j), nil
}

// ReportOf reads what a send's job applied so far.
func ReportOf(j store.Job) Report {
	var rep Report
	_ = json.Unmarshal(j.Result, &rep) // a fresh job has "{}"
	return rep
}

// describe says what a send did, for the job's page.
func describe(j store.Job) string {
	rep := ReportOf(j)
	msg := fmt.Sprintf("%d new %s created, %d existing %s sent a fresh link; %d enrollment %s queued.",
		rep.Created, plural(rep.Created, "user", "users"), rep.Relinked, plural(rep.Relinked, "user", "users"),
		rep.Messages, plural(rep.Messages, "email", "emails"))
	if rep.Skipped > 0 {
		msg += fmt.Sprintf(" %d already enrolled %s skipped.", rep.Skipped, plural(rep.Skipped, "user was", "users were"))
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sendTask applies a send's rows from its job's cursor.
type sendTask struct {
	s       *Service
	payload sendPayload
}

func (s *Service) openSend(_ context.Context, j store.Job) (jobs.Task, error) {
	t := &sendTask{s: s}
	if err := json.Unmarshal(j.Payload, &t.payload); err != nil {
		return nil, fmt.Errorf("bulk: job %d payload: %w", j.ID, err)
	}
	return t, nil
}

func (t *sendTask) Close() {}

// Step applies the next rows in q, the step's transaction: first decide
// each row and create the new users together (one multi-row INSERT and
// their user.created audit records, as users.Insert writes them); then issue
// the links and queue the emails in line order.
func (t *sendTask) Step(ctx context.Context, q store.Queries, j *store.Job) (bool, error) {
	s, who, text := t.s, t.payload.Who, t.payload.Text
	rep := ReportOf(*j)
	now := s.clock.Now()
	org, err := notify.LoadOrg(ctx, q, s.orgName(ctx), "")
	if err != nil {
		return false, err
	}
	rows := t.payload.Rows[min(j.Cursor, len(t.payload.Rows)):min(j.Cursor+stepRows, len(t.payload.Rows))]
	targets := make([]*store.User, 0, len(rows))
	var created []*store.User
	methods, err := policy.OrganisationMethods(ctx, q)
	if err != nil {
		return false, err
	}
	for _, row := range rows {
		pr, existing, err := outcomeOf(ctx, q, methods, row)
		if err != nil {
			return false, err
		}
		switch pr.Outcome {
		case OutcomeSkip:
			rep.Skipped++
		case OutcomeCreate:
			u, err := users.Prepare(users.NewUser{Username: row.Username, Email: row.Email}, now)
			if err != nil {
				return false, &jobs.RowError{Line: row.Line, Reason: err.Error()}
			}
			u.Key = secret.NewID("DU", 20)
			created = append(created, &u)
			targets = append(targets, &u)
			rep.Created++
		case OutcomeRelink:
			u := *existing
			if u.Email != row.Email {
				old := u.Email
				u.Email, u.UpdatedAt = row.Email, now
				if err := q.UpdateUser(ctx, u, users.ResetsFailures(u.Status)); err != nil {
					return false, err
				}
				if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.UserUpdated, audit.TargetUser, u.Username,
					map[string]any{"email": u.Email, "old_email": old, "by": "bulk enrollment"})); err != nil {
					return false, err
				}
			}
			targets = append(targets, &u)
			rep.Relinked++
		}
	}
	if len(created) > 0 {
		if err := q.CreateUsers(ctx, created); err != nil {
			return false, err
		}
		entries := make([]store.AuditEntry, 0, len(created))
		for _, u := range created {
			entries = append(entries, audit.Entry(now, who, audit.UserCreated, audit.TargetUser, u.Username,
				map[string]any{"email": u.Email}))
		}
		if err := q.InsertAudits(ctx, entries); err != nil {
			return false, err
		}
	}
	for _, u := range targets {
		link, err := s.enroll.IssueLinkTx(ctx, q, *u, enroll.LinkTTL, who)
		if err != nil {
			return false, err
		}
		m := notify.EnrollmentEmail(org, *u, link.URL, link.Link.ExpiresAt, &text)
		m.IntentKey = notify.EnrollLinkIntent(link.Link.ID, 1)
		if _, err := notify.Enqueue(ctx, q, m, now); err != nil {
			return false, err
		}
		rep.Messages++
	}
	if j.Result, err = json.Marshal(rep); err != nil {
		return false, err
	}
	j.Cursor += len(rows)
	if j.Cursor < len(t.payload.Rows) {
		return false, nil
	}
	return true, q.InsertAudit(ctx, audit.Entry(now, who, audit.BulkEnrollmentSent, audit.TargetBulk, fmt.Sprintf("%d rows", len(t.payload.Rows)),
		map[string]any{"created": rep.Created, "relinked": rep.Relinked, "skipped": rep.Skipped, "job": j.ID}))
}
