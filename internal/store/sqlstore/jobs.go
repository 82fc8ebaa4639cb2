package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"enrollportal/internal/store"
)

const jobColumns = `id, kind, status, title, payload, total, cursor, result, last_error, skipped,
	owner, lease_until, created_by, created_at, updated_at, finished_at`

func scanJob(r interface{ Scan(...any) error }) (store.Job, error) {
	var j store.Job
	var result, skipped string
	var owner sql.NullString
	var lease, finished sql.NullInt64
	var created, updated int64
	err := r.Scan(&j.ID, &j.Kind, &j.Status, &j.Title, &j.Payload, &j.Total, &j.Cursor, &result, &j.LastError, &skipped,
		&owner, &lease, &j.CreatedBy, &created, &updated, &finished)
	if err != nil {
		return j, err
	}
	j.Result, j.Owner = []byte(result), owner.String
	j.LeaseUntil, j.FinishedAt = fromNullUnix(lease), fromNullUnix(finished)
	j.CreatedAt, j.UpdatedAt = fromUnix(created), fromUnix(updated)
	if err := json.Unmarshal([]byte(skipped), &j.Skipped); err != nil {
		return j, err
	}
	return j, nil
}

func jsonOrEmpty(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

func (s queries) CreateJob(ctx context.Context, j *store.Job) error {
	j.Status = store.JobRunning
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO jobs (kind, status, title, payload, total, cursor, result, created_by, created_at, updated_at)
		VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		j.Kind, j.Title, j.Payload, j.Total, j.Cursor, jsonOrEmpty(j.Result, "{}"), j.CreatedBy, unix(j.CreatedAt), unix(j.CreatedAt)).Scan(&j.ID)
	j.UpdatedAt = j.CreatedAt
	return wrap("create job", err)
}

func (s queries) JobByID(ctx context.Context, id int64) (store.Job, error) {
	j, err := scanJob(s.q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	return j, wrap("job by id", err)
}

func (s queries) ClaimJob(ctx context.Context, id int64, owner string, now, until time.Time) (store.Job, error) {
	// One UPDATE whose pick locks the job (skipLocked): two processes can
	// never hold the same job.
	pick := `SELECT id FROM jobs WHERE status = 'running' AND (owner IS NULL OR lease_until <= ?) ORDER BY id LIMIT 1` + s.d.skipLocked()
	args := []any{owner, unix(until), unix(now)}
	if id > 0 {
		pick = `SELECT id FROM jobs WHERE id = ? AND status = 'running' AND (owner IS NULL OR lease_until <= ?)` + s.d.skipLocked()
		args = []any{owner, unix(until), id, unix(now)}
	}
	j, err := scanJob(s.q.QueryRowContext(ctx, `
		UPDATE jobs SET owner = ?, lease_until = ? WHERE id = (`+pick+`)
		RETURNING `+jobColumns, args...))
	return j, wrap("claim job", err)
}

func (s queries) SaveJob(ctx context.Context, j store.Job) (bool, error) {
	skipped, err := json.Marshal(j.Skipped)
	if err != nil {
		return false, wrap("save job", err)
	}
	if j.Skipped == nil {
		skipped = []byte("[]")
	}
	return s.claimUpdate(ctx, "save job", `
		UPDATE jobs SET status = ?, total = ?, cursor = ?, result = ?, skipped = ?, last_error = ?,
			lease_until = ?, updated_at = ?, finished_at = ?,
			owner = CASE WHEN ? = 'running' THEN owner END
		WHERE id = ? AND owner = ?`,
		j.Status, j.Total, j.Cursor, jsonOrEmpty(j.Result, "{}"), string(skipped), j.LastError,
		nullUnix(j.LeaseUntil), unix(j.UpdatedAt), nullUnix(j.FinishedAt), j.Status, j.ID, j.Owner)
}

func (s queries) ReleaseJob(ctx context.Context, id int64, owner string) error {
	_, err := s.q.ExecContext(ctx, `UPDATE jobs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?`, id, owner)
	return wrap("release job", err)
}

func (s queries) RecentJobs(ctx context.Context, limit int) ([]store.Job, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+jobColumns+` FROM jobs WHERE status = 'running'
		UNION ALL
		SELECT * FROM (SELECT `+jobColumns+` FROM jobs WHERE status <> 'running' ORDER BY id DESC LIMIT ?) AS finished
		ORDER BY id DESC`, limit)
	if err != nil {
		return nil, wrap("recent jobs", err)
	}
	defer rows.Close()
	var out []store.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, wrap("recent jobs", err)
		}
		out = append(out, j)
	}
	return out, wrap("recent jobs", rows.Err())
}

func (s queries) RegisterInstance(ctx context.Context, in store.Instance) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)`,
		in.ID, in.Host, in.PID, unix(in.StartedAt), unix(in.HeartbeatAt))
	return wrap("register instance", err)
}

func (s queries) Heartbeat(ctx context.Context, id string, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE instances SET heartbeat_at = ? WHERE id = ?`, unix(at), id)
	return wrap("heartbeat", err)
}

func (s queries) Instances(ctx context.Context) ([]store.Instance, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, host, pid, started_at, heartbeat_at FROM instances ORDER BY started_at`)
	if err != nil {
		return nil, wrap("instances", err)
	}
	defer rows.Close()
	var out []store.Instance
	for rows.Next() {
		var in store.Instance
		var started, beat int64
		if err := rows.Scan(&in.ID, &in.Host, &in.PID, &started, &beat); err != nil {
			return nil, wrap("instances", err)
		}
		in.StartedAt, in.HeartbeatAt = fromUnix(started), fromUnix(beat)
		out = append(out, in)
	}
	return out, wrap("instances", rows.Err())
}

func (s queries) ReleaseInstances(ctx context.Context, ids []string, now time.Time) (int, int, error) {
	if len(ids) == 0 {
		return 0, 0, nil
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	// The message's attempt stays counted: the dead process may have sent
	// it before it died.
	res, err := s.q.ExecContext(ctx, `
		UPDATE outbox SET status = 'pending', claimed_until = NULL, claimed_by = NULL, next_attempt_at = ?
		WHERE status = 'sending' AND claimed_by IN `+in, append([]any{unix(now)}, args...)...)
	if err != nil {
		return 0, 0, wrap("release instances", err)
	}
	messages, _ := res.RowsAffected()
	res, err = s.q.ExecContext(ctx, `UPDATE jobs SET owner = NULL, lease_until = NULL WHERE status = 'running' AND owner IN `+in, args...)
	if err != nil {
		return 0, 0, wrap("release instances", err)
	}
	jobs, _ := res.RowsAffected()
	// Their leases on scheduled work go too, so that a live instance takes
	// the work over at its next tick instead of when the lease runs out.
	if _, err := s.q.ExecContext(ctx, `DELETE FROM leases WHERE holder IN `+in, args...); err != nil {
		return 0, 0, wrap("release instances", err)
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM instances WHERE id IN `+in, args...); err != nil {
		return 0, 0, wrap("release instances", err)
	}
	return int(messages), int(jobs), nil
}
