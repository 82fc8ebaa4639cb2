package sqlstore

import (
	"context"
	"time"

	"enrollportal/internal/store"
)

func (s queries) CreateImportPlan(ctx context.Context, p *store.ImportPlan) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO import_plans (token_hash, summary, created_at) VALUES (?, ?, ?) RETURNING id`,
		p.TokenHash, p.Summary, unix(p.CreatedAt)).Scan(&p.ID)
	return wrap("create import plan", err)
}

func (s queries) CompleteImportPlan(ctx context.Context, planID int64, tokenHash, summary []byte) error {
	res, err := s.q.ExecContext(ctx, `UPDATE import_plans SET token_hash = ?, summary = ? WHERE id = ? AND job_id IS NULL`,
		tokenHash, summary, planID)
	return affectedOne(res, err, "complete import plan")
}

func (s queries) AddImportPlanChunk(ctx context.Context, planID int64, seq int, data []byte) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO import_plan_chunks (plan_id, seq, data) VALUES (?, ?, ?)`, planID, seq, data)
	return wrap("add import plan chunk", err)
}

func (s queries) WaitingImportPlan(ctx context.Context, tokenHash []byte) (store.ImportPlan, error) {
	var p store.ImportPlan
	var created int64
	err := s.q.QueryRowContext(ctx, `SELECT id, token_hash, summary, created_at FROM import_plans WHERE token_hash = ?`,
		tokenHash).Scan(&p.ID, &p.TokenHash, &p.Summary, &created)
	p.CreatedAt = fromUnix(created)
	return p, wrap("waiting import plan", err)
}

func (s queries) TakeImportPlan(ctx context.Context, tokenHash []byte, jobID int64) (store.ImportPlan, error) {
	// One statement, so that two applies of the same plan at once (a
	// double click reaching two instances) cannot both take it.
	p := store.ImportPlan{JobID: jobID}
	var created int64
	err := s.q.QueryRowContext(ctx, `
		UPDATE import_plans SET token_hash = NULL, job_id = ? WHERE token_hash = ?
		RETURNING id, summary, created_at`, jobID, tokenHash).Scan(&p.ID, &p.Summary, &created)
	p.CreatedAt = fromUnix(created)
	return p, wrap("take import plan", err)
}

func (s queries) ImportPlanChunk(ctx context.Context, planID int64, seq int) ([]byte, error) {
	var data []byte
	err := s.q.QueryRowContext(ctx, `SELECT data FROM import_plan_chunks WHERE plan_id = ? AND seq = ?`, planID, seq).Scan(&data)
	return data, wrap("import plan chunk", err)
}

func (s queries) DeleteImportPlan(ctx context.Context, planID int64) error {
	// The chunks go with the plan (ON DELETE CASCADE).
	_, err := s.q.ExecContext(ctx, `DELETE FROM import_plans WHERE id = ?`, planID)
	return wrap("delete import plan", err)
}

func (s queries) DeleteWaitingImportPlan(ctx context.Context, tokenHash []byte) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM import_plans WHERE token_hash = ?`, tokenHash)
	return wrap("delete waiting import plan", err)
}

func (s queries) DeleteStaleImportPlans(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `
		DELETE FROM import_plans WHERE created_at < ? AND (job_id IS NULL OR NOT EXISTS (
			SELECT 1 FROM jobs WHERE jobs.id = import_plans.job_id AND jobs.status = 'running'))`, unix(before))
	if err != nil {
		return 0, wrap("delete stale import plans", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete stale import plans", err)
}
