package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"enrollportal/internal/store"
)

const directoryColumns = `id, name, kind, config, bind_password, sync_cursor, last_full_at, last_sync_at, last_result, created_at`

func scanDirectory(row interface{ Scan(...any) error }) (store.Directory, error) {
	var d store.Directory
	var fullAt, created int64
	var lastSync sql.NullInt64
	err := row.Scan(&d.ID, &d.Name, &d.Kind, &d.Config, &d.BindPassword, &d.SyncCursor, &fullAt, &lastSync, &d.LastResult, &created)
	d.CreatedAt, d.LastSyncAt = fromUnix(created), fromNullUnix(lastSync)
	if fullAt != 0 {
		t := fromUnix(fullAt)
		d.LastFullAt = &t
	}
	return d, err
}

func (s queries) CreateDirectory(ctx context.Context, d *store.Directory) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO directories (name, kind, config, bind_password, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		d.Name, d.Kind, d.Config, d.BindPassword, unix(d.CreatedAt)).Scan(&d.ID)
	return wrap("create directory", err)
}

func (s queries) UpdateDirectory(ctx context.Context, d store.Directory) error {
	res, err := s.q.ExecContext(ctx, `UPDATE directories SET kind = ?, config = ?, bind_password = ?, sync_cursor = ? WHERE id = ?`,
		d.Kind, d.Config, d.BindPassword, d.SyncCursor, d.ID)
	return affectedOne(res, err, "update directory")
}

func (s queries) DeleteDirectory(ctx context.Context, id int64) error {
	// The links go explicitly, not only by ON DELETE CASCADE, so that the
	// users and groups they named are left as if made by hand whatever the
	// backend's foreign key setting.
	for _, q := range []string{`DELETE FROM directory_users WHERE directory_id = ?`, `DELETE FROM directory_groups WHERE directory_id = ?`,
		`DELETE FROM directory_leases WHERE directory_id = ?`, `DELETE FROM directory_runs WHERE directory_id = ?`} {
		if _, err := s.q.ExecContext(ctx, q, id); err != nil {
			return wrap("delete directory", err)
		}
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM directories WHERE id = ?`, id)
	return affectedOne(res, err, "delete directory")
}

func (s queries) DirectoryByName(ctx context.Context, name string) (store.Directory, error) {
	d, err := scanDirectory(s.q.QueryRowContext(ctx, `SELECT `+directoryColumns+` FROM directories WHERE name = ?`, name))
	return d, wrap("directory by name", err)
}

func (s queries) Directories(ctx context.Context) ([]store.Directory, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+directoryColumns+` FROM directories ORDER BY name`)
	if err != nil {
		return nil, wrap("directories", err)
	}
	defer rows.Close()
	var out []store.Directory
	for rows.Next() {
		d, err := scanDirectory(rows)
		if err != nil {
			return nil, wrap("directories", err)
		}
		out = append(out, d)
	}
	return out, wrap("directories", rows.Err())
}

func (s queries) SetDirectorySynced(ctx context.Context, id int64, at time.Time, result, cursor string, fullAt *time.Time) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE directories SET last_sync_at = ?, last_result = ?,
			sync_cursor = CASE WHEN ? = '' THEN sync_cursor ELSE ? END,
			last_full_at = COALESCE(?, last_full_at)
		WHERE id = ?`, unix(at), result, cursor, cursor, nullUnix(fullAt), id)
	return affectedOne(res, err, "set directory synced")
}

func (s queries) TakeDirectoryLease(ctx context.Context, directoryID int64, holder string, now, until time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		INSERT INTO directory_leases (directory_id, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (directory_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE directory_leases.holder = excluded.holder OR directory_leases.expires_at <= ?`,
		directoryID, holder, unix(until), unix(now))
	if err != nil {
		return false, wrap("take directory lease", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("take directory lease", err)
}

func (s queries) ReleaseDirectoryLease(ctx context.Context, directoryID int64, holder string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM directory_leases WHERE directory_id = ? AND holder = ?`, directoryID, holder)
	return wrap("release directory lease", err)
}

func (s queries) DirectoryUsers(ctx context.Context, directoryID int64) ([]store.DirectoryUser, error) {
	return s.directoryUsers(ctx, nil, `WHERE d.directory_id = ?`, directoryID)
}

// stableIDChunk is how many stable ids one query of
// DirectoryUsersByStableID binds (well under the bound-parameter limits of
// SQLite and PostgreSQL).
const stableIDChunk = 500

func (s queries) DirectoryUsersByStableID(ctx context.Context, directoryID int64, stableIDs []string) ([]store.DirectoryUser, error) {
	var out []store.DirectoryUser
	for start := 0; start < len(stableIDs); start += stableIDChunk {
		chunk := stableIDs[start:min(start+stableIDChunk, len(stableIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, directoryID)
		for _, id := range chunk {
			args = append(args, id)
		}
		var err error
		out, err = s.directoryUsers(ctx, out,
			`WHERE d.directory_id = ? AND d.stable_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s queries) CountDirectoryUsers(ctx context.Context, directoryID int64) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM directory_users WHERE directory_id = ? AND trashed_at IS NULL`,
		directoryID).Scan(&n)
	return n, wrap("count directory users", err)
}

// directoryUsers appends to out the directory users the WHERE clause
// picks.
func (s queries) directoryUsers(ctx context.Context, out []store.DirectoryUser, where string, args ...any) ([]store.DirectoryUser, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+userColumnsU+`, d.stable_id, d.trashed_at, d.disabled_by_sync, d.entry_stamp, d.user_updated_at
		FROM directory_users d JOIN users u ON u.id = d.user_id
		`+where, args...)
	if err != nil {
		return nil, wrap("directory users", err)
	}
	defer rows.Close()
	for rows.Next() {
		var du store.DirectoryUser
		u := &du.User
		var created, updated int64
		var lastLogin, trashed sql.NullInt64
		var recorded int64
		if err := rows.Scan(&u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
			&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin, &du.StableID, &trashed, &du.DisabledBySync,
			&du.EntryStamp, &recorded); err != nil {
			return nil, wrap("directory users", err)
		}
		du.Drifted = updated != recorded
		u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
		du.TrashedAt = fromNullUnix(trashed)
		out = append(out, du)
	}
	return out, wrap("directory users", rows.Err())
}

func (s queries) DirectoryUserPhones(ctx context.Context, directoryID int64) (map[int64][]string, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT up.user_id, p.number, p.extension
		FROM directory_users d JOIN user_phones up ON up.user_id = d.user_id JOIN phones p ON p.id = up.phone_id
		WHERE d.directory_id = ? AND p.number != ''`, directoryID)
	if err != nil {
		return nil, wrap("directory user phones", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var number, ext string
		if err := rows.Scan(&id, &number, &ext); err != nil {
			return nil, wrap("directory user phones", err)
		}
		out[id] = append(out[id], number+"#"+ext)
	}
	return out, wrap("directory user phones", rows.Err())
}

func (s queries) DirectoryMemberships(ctx context.Context, directoryID int64) ([][2]int64, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT ug.user_id, ug.group_id FROM directory_groups g JOIN user_groups ug ON ug.group_id = g.group_id
		WHERE g.directory_id = ?`, directoryID)
	if err != nil {
		return nil, wrap("directory memberships", err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, wrap("directory memberships", err)
		}
		out = append(out, p)
	}
	return out, wrap("directory memberships", rows.Err())
}

func (s queries) LinkDirectoryUser(ctx context.Context, directoryID int64, stableID string, userID int64) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO directory_users (directory_id, stable_id, user_id) VALUES (?, ?, ?)`,
		directoryID, stableID, userID)
	return wrap("link directory user", err)
}

func (s queries) LinkDirectoryUsers(ctx context.Context, directoryID int64, stableIDs []string, userIDs []int64, stamps []string) error {
	err := s.insertMany(ctx, `INSERT INTO directory_users (directory_id, stable_id, user_id, entry_stamp, user_updated_at) VALUES `,
		`(?, ?, ?, ?, (SELECT updated_at FROM users WHERE id = ?))`, "", len(userIDs),
		func(i int) []any { return []any{directoryID, stableIDs[i], userIDs[i], stamps[i], userIDs[i]} }, nil)
	return wrap("link directory users", err)
}

// DirectoryUserStamps reads the rows in table order ("+" keeps SQLite off
// the primary key's index, which is in stable id order): users created
// together are then read together, where the index's order sent each row
// to a random page of users (a seventh of the CPU for 100,000 users).
func (s queries) DirectoryUserStamps(ctx context.Context, directoryID int64) ([]store.DirectoryUserStamp, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT d.user_id, d.stable_id, d.entry_stamp, d.trashed_at, u.updated_at, d.user_updated_at
		FROM directory_users d JOIN users u ON u.id = d.user_id
		WHERE +d.directory_id = ?`, directoryID)
	if err != nil {
		return nil, wrap("directory user stamps", err)
	}
	defer rows.Close()
	var out []store.DirectoryUserStamp
	for rows.Next() {
		var st store.DirectoryUserStamp
		var trashed sql.NullInt64
		var updated, recorded int64
		if err := rows.Scan(&st.UserID, &st.StableID, &st.Stamp, &trashed, &updated, &recorded); err != nil {
			return nil, wrap("directory user stamps", err)
		}
		st.TrashedAt, st.Drifted = fromNullUnix(trashed), updated != recorded
		out = append(out, st)
	}
	return out, wrap("directory user stamps", rows.Err())
}

func (s queries) DirectoryHasUnstampedUsers(ctx context.Context, directoryID int64) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM (SELECT 1 FROM directory_users WHERE directory_id = ? AND entry_stamp = '' LIMIT 1) AS unstamped`,
		directoryID).Scan(&n)
	return n > 0, wrap("directory has unstamped users", err)
}

func (s queries) SetDirectoryUserStamp(ctx context.Context, userID int64, stamp string) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE directory_users SET entry_stamp = ?, user_updated_at = (SELECT updated_at FROM users WHERE id = ?)
		WHERE user_id = ?`, stamp, userID, userID)
	return affectedOne(res, err, "set directory user stamp")
}

func (s queries) SetDirectoryUserState(ctx context.Context, userID int64, trashedAt *time.Time, disabledBySync bool) error {
	res, err := s.q.ExecContext(ctx, `UPDATE directory_users SET trashed_at = ?, disabled_by_sync = ? WHERE user_id = ?`,
		nullUnix(trashedAt), disabledBySync, userID)
	return affectedOne(res, err, "set directory user state")
}

func (s queries) DirectoryGroups(ctx context.Context, directoryID int64) ([]store.DirectoryGroup, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT d.group_id, d.stable_id, g.name FROM directory_groups d JOIN groups g ON g.id = d.group_id
		WHERE d.directory_id = ?`, directoryID)
	if err != nil {
		return nil, wrap("directory groups", err)
	}
	defer rows.Close()
	var out []store.DirectoryGroup
	for rows.Next() {
		var g store.DirectoryGroup
		if err := rows.Scan(&g.GroupID, &g.StableID, &g.Name); err != nil {
			return nil, wrap("directory groups", err)
		}
		out = append(out, g)
	}
	return out, wrap("directory groups", rows.Err())
}

func (s queries) LinkDirectoryGroup(ctx context.Context, directoryID int64, stableID string, groupID int64) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO directory_groups (directory_id, stable_id, group_id) VALUES (?, ?, ?)`,
		directoryID, stableID, groupID)
	return wrap("link directory group", err)
}

func (s queries) RemoveUsersFromGroups(ctx context.Context, pairs [][2]int64) error {
	for _, p := range pairs {
		if _, err := s.q.ExecContext(ctx, `DELETE FROM user_groups WHERE user_id = ? AND group_id = ?`, p[0], p[1]); err != nil {
			return wrap("remove users from groups", err)
		}
	}
	return nil
}

func (s queries) CreateDirectoryRun(ctx context.Context, r *store.DirectoryRun) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO directory_runs (directory_id, kind, dry_run, status, counts, report, error, started_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.DirectoryID, r.Kind, r.DryRun, r.Status, r.Counts, r.Report, r.Error, unix(r.StartedAt)).Scan(&r.ID)
	return wrap("create directory run", err)
}

func (s queries) FinishDirectoryRun(ctx context.Context, r store.DirectoryRun) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE directory_runs SET kind = ?, status = ?, counts = ?, report = ?, error = ?, finished_at = ? WHERE id = ?`,
		r.Kind, r.Status, r.Counts, r.Report, r.Error, nullUnix(r.FinishedAt), r.ID)
	return affectedOne(res, err, "finish directory run")
}

func (s queries) DirectoryRuns(ctx context.Context, directoryID int64, limit int) ([]store.DirectoryRun, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, directory_id, kind, dry_run, status, counts, report, error, started_at, finished_at
		FROM directory_runs WHERE directory_id = ? ORDER BY id DESC LIMIT ?`, directoryID, limit)
	if err != nil {
		return nil, wrap("directory runs", err)
	}
	defer rows.Close()
	var out []store.DirectoryRun
	for rows.Next() {
		var r store.DirectoryRun
		var started int64
		var finished sql.NullInt64
		if err := rows.Scan(&r.ID, &r.DirectoryID, &r.Kind, &r.DryRun, &r.Status, &r.Counts, &r.Report, &r.Error, &started, &finished); err != nil {
			return nil, wrap("directory runs", err)
		}
		r.StartedAt, r.FinishedAt = fromUnix(started), fromNullUnix(finished)
		out = append(out, r)
	}
	return out, wrap("directory runs", rows.Err())
}
