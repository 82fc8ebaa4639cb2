package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/jobs"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// JobKind names import jobs.
const JobKind = "import_apply"

// applyPayload is an import's input, kept in its job record.
type applyPayload struct {
	PlanID int64 `json:"plan_id"` // the plan the job took (store.ImportPlan)
	// ChunkRows is how many rows each chunk of the plan holds, as written
	// by the check.
	ChunkRows int       `json:"chunk_rows"`
	Summary   Summary   `json:"summary"`
	Who       audit.Who `json:"who"`
}

// applied counts what an import's job applied so far.
type applied struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	NewPhones int `json:"new_phones"`
}

// StartApply begins applying the plan Check kept under id, as a job named
// after fileName: steps of 250 lines, each one transaction, from the first
// line not applied after a crash (see package jobs), on whichever instance's
// job runner claims it. The job takes the plan in the transaction that
// creates it, so a plan is applied once however many times "apply" is
// pressed; the job removes the plan when it ends. ErrPlanGone, changing
// nothing, when no plan waits under id. The database may have changed since
// the check: a line it now refuses (a username taken meanwhile, a user
// deleted, an alias taken) is skipped and listed on the job's page; the
// other lines are applied.
func (s *Service) StartApply(ctx context.Context, id, fileName string, who audit.Who) (int64, error) {
	if id == "" {
		return 0, ErrPlanGone
	}
	hash := secret.HashToken(id)
	var j store.Job
	err := s.store.InTx(ctx, func(q store.Queries) error {
		p, err := q.WaitingImportPlan(ctx, hash)
		if err != nil {
			return err
		}
		if p.CreatedAt.Before(s.clock.Now().Add(-PlanTTL)) {
			return store.ErrNotFound // waited too long; the next check removes it
		}
		var sum Summary
		if err := json.Unmarshal(p.Summary, &sum); err != nil {
			return fmt.Errorf("plan %d summary: %w", p.ID, err)
		}
		payload, err := json.Marshal(applyPayload{PlanID: p.ID, ChunkRows: planChunkRows, Summary: sum, Who: who})
		if err != nil {
			return err
		}
		title := "Import"
		if fileName != "" {
			title = "Import of " + fileName
		}
		if sum.Mode == ModeDelete {
			title += " (delete users)"
		}
		j = store.Job{Kind: JobKind, Title: title, Payload: payload, Total: sum.Create + sum.Update + sum.Delete,
			CreatedBy: who.Name, CreatedAt: s.clock.Now()}
		if err := q.CreateJob(ctx, &j); err != nil {
			return err
		}
		// Taken by this job only if no other apply took it since the read.
		_, err = q.TakeImportPlan(ctx, hash, j.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrPlanGone
	}
	if err != nil {
		return 0, fmt.Errorf("importer: %w", err)
	}
	s.jobs.Wake()
	return j.ID, nil
}

// BeginApply starts applying the plan kept under id (see StartApply) and
// waits up to wait for it to finish: a small import is done by then; a
// larger one goes on in the background while the admin page shows its
// progress.
func (s *Service) BeginApply(ctx context.Context, id, fileName string, who audit.Who, wait time.Duration) (store.Job, error) {
	jobID, err := s.StartApply(ctx, id, fileName, who)
	if err != nil {
		return store.Job{}, err
	}
	j, err := s.jobs.Wait(ctx, jobID, wait)
	if err != nil {
		return store.Job{}, fmt.Errorf("importer: apply: %w", err)
	}
	return j, nil
}

// ApplyPlan applies the plan Check kept under id in the caller's goroutine
// and returns the summary with what was applied; lines the database refused
// are in Summary.Skipped. The plan is gone afterwards. ErrPlanGone, changing
// nothing, when no plan waits under id.
func (s *Service) ApplyPlan(ctx context.Context, id string, who audit.Who) (Summary, error) {
	jobID, err := s.StartApply(ctx, id, "", who)
	if err != nil {
		return Summary{}, err
	}
	j, err := s.jobs.Finish(ctx, jobID)
	if err != nil {
		return Summary{}, fmt.Errorf("importer: apply: %w", err)
	}
	sum := SummaryOf(j)
	if j.Status == store.JobFailed {
		return sum, fmt.Errorf("importer: apply: %s", j.LastError)
	}
	return sum, nil
}

// SummaryOf is an import job's summary: the check's counts, and what the
// job applied so far.
func SummaryOf(j store.Job) Summary {
	var p applyPayload
	var a applied
	_ = json.Unmarshal(j.Payload, &p)
	_ = json.Unmarshal(j.Result, &a)
	sum := p.Summary
	sum.NewPhones = a.NewPhones
	sum.Skipped = j.Skipped
	return sum
}

// describe says what an import did, for the job's page.
func describe(j store.Job) string {
	var p applyPayload
	var a applied
	_ = json.Unmarshal(j.Payload, &p)
	_ = json.Unmarshal(j.Result, &a)
	if p.Summary.Mode == ModeDelete {
		return fmt.Sprintf("%d %s deleted.", a.Deleted, plural(a.Deleted, "user", "users"))
	}
	return fmt.Sprintf("%d %s created, %d updated, %d new %s, %d new %s. No messages were sent.",
		a.Created, plural(a.Created, "user", "users"), a.Updated, a.NewPhones, plural(a.NewPhones, "phone", "phones"),
		len(p.Summary.NewGroups), plural(len(p.Summary.NewGroups), "group", "groups"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// applyFinished removes the plan of an import job that ended; should it
// fail to, the next check's sweep removes it.
func (s *Service) applyFinished(j store.Job) {
	var p applyPayload
	if json.Unmarshal(j.Payload, &p) != nil || p.PlanID == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.store.DeleteImportPlan(ctx, p.PlanID); err != nil {
		s.jobs.Log().Warn("importer: could not remove the plan of a finished import; the next check removes it", "job", j.ID, "err", err)
	}
}

// applyTask applies a plan from its job's cursor.
type applyTask struct {
	s       *Service
	payload applyPayload
	plan    *planReader
	skip    map[int]bool // lines refused earlier
	a       *applier
	sum     Summary // NewPhones counts the phones of the current step
}

// openApply opens the plan, passes the lines already applied, and indexes
// the groups and phone numbers as the database has them now.
func (s *Service) openApply(ctx context.Context, j store.Job) (jobs.Task, error) {
	t := &applyTask{s: s, skip: map[int]bool{}}
	if err := json.Unmarshal(j.Payload, &t.payload); err != nil {
		return nil, fmt.Errorf("importer: job %d payload: %w", j.ID, err)
	}
	for _, r := range j.Skipped {
		t.skip[r.Line] = true
	}
	sum := t.payload.Summary
	if t.payload.PlanID == 0 || t.payload.ChunkRows <= 0 {
		return nil, fmt.Errorf("importer: job %d has no plan in the database; check the file again and apply it", j.ID)
	}
	t.plan = &planReader{planID: t.payload.PlanID, chunkRows: t.payload.ChunkRows,
		total: sum.Create + sum.Update + sum.Delete, read: j.Cursor}
	t.a = &applier{who: t.payload.Who, sum: &t.sum, groups: map[string]int64{}, phones: map[string]int64{}}
	groups, err := s.store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		t.a.groups[g.Name] = g.ID
	}
	if t.payload.Summary.Phones > 0 {
		err := s.store.EachPhoneNumber(ctx, func(id int64, number, ext string) error {
			if _, ok := t.a.phones[phoneKey(number, ext)]; !ok {
				t.a.phones[phoneKey(number, ext)] = id
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Close has nothing to let go of: the plan is read a chunk at a time.
func (t *applyTask) Close() {}

// Step applies the next lines of the plan in q; the last step writes the
// import.applied audit record. A step applies up to applyBatch lines, in
// chunks of applyChunk, and ends after a chunk when logins wait for the
// write lock it holds (see yieldToLogins).
func (t *applyTask) Step(ctx context.Context, q store.Queries, j *store.Job) (bool, error) {
	var res applied
	_ = json.Unmarshal(j.Result, &res)
	now := t.s.clock.Now()
	t.a.q = q
	t.sum.NewPhones = 0
	batch := make([]planRow, 0, applyChunk)
	read, eof := 0, false
	for !eof && read < applyBatch {
		batch = batch[:0]
		for n := 0; n < applyChunk; n++ {
			row, err := t.plan.next(ctx, q)
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return false, err
			}
			read++
			if !t.skip[row.Line] {
				batch = append(batch, row)
			}
		}
		if len(batch) > 0 {
			if err := t.a.batch(ctx, batch, now); err != nil {
				return false, err
			}
		}
		for _, row := range batch {
			switch {
			case row.Delete:
				res.Deleted++
			case row.UserID == 0:
				res.Created++
			default:
				res.Updated++
			}
		}
		if t.s.yieldToLogins() {
			break
		}
	}
	res.NewPhones += t.sum.NewPhones
	var err error
	if j.Result, err = json.Marshal(res); err != nil {
		return false, err
	}
	j.Cursor += read
	if !eof {
		return false, nil
	}
	sum := t.payload.Summary
	return true, q.InsertAudit(ctx, audit.Entry(now, t.payload.Who, audit.ImportApplied, audit.TargetImport, string(sum.Mode),
		map[string]any{"rows": sum.Rows, "created": res.Created, "updated": res.Updated, "deleted": res.Deleted,
			"new_phones": res.NewPhones, "new_groups": len(sum.NewGroups), "skipped": len(j.Skipped), "job": j.ID}))
}
