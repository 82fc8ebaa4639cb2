package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"enrollportal/internal/store"
)

const tokenColumns = `t.id, t.token_key, t.serial, t.type, t.secret, t.counter, t.step, t.user_id, COALESCE(u.username, ''), t.created_at`

func scanTokens(rows *sql.Rows, op string) ([]store.OATHToken, error) {
	defer rows.Close()
	var out []store.OATHToken
	for rows.Next() {
		var t store.OATHToken
		var user sql.NullInt64
		var created int64
		if err := rows.Scan(&t.ID, &t.Key, &t.Serial, &t.Type, &t.Secret, &t.Counter, &t.Step, &user, &t.Username, &created); err != nil {
			return nil, wrap(op, err)
		}
		t.UserID, t.CreatedAt = user.Int64, fromUnix(created)
		out = append(out, t)
	}
	return out, wrap(op, rows.Err())
}

func (s queries) CreateOATHToken(ctx context.Context, t *store.OATHToken) error {
	var user sql.NullInt64
	if t.UserID != 0 {
		user = sql.NullInt64{Int64: t.UserID, Valid: true}
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO hardware_tokens (token_key, serial, type, secret, counter, step, user_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Key, t.Serial, t.Type, t.Secret, t.Counter, t.Step, user, unix(t.CreatedAt)).Scan(&t.ID)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return store.ErrConflict
	}
	return wrap("create hardware token", err)
}

func (s queries) OATHTokens(ctx context.Context, limit int) ([]store.OATHToken, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM hardware_tokens t LEFT JOIN users u ON u.id = t.user_id
		ORDER BY t.serial, t.id LIMIT ?`, limit)
	if err != nil {
		return nil, wrap("hardware tokens", err)
	}
	return scanTokens(rows, "hardware tokens")
}

func (s queries) OATHTokenBySerial(ctx context.Context, serial string) (store.OATHToken, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM hardware_tokens t LEFT JOIN users u ON u.id = t.user_id
		WHERE t.serial = ? ORDER BY t.id LIMIT 1`, serial)
	if err != nil {
		return store.OATHToken{}, wrap("hardware token by serial", err)
	}
	ts, err := scanTokens(rows, "hardware token by serial")
	if err != nil {
		return store.OATHToken{}, err
	}
	if len(ts) == 0 {
		return store.OATHToken{}, store.ErrNotFound
	}
	return ts[0], nil
}

func (s queries) OATHTokensByUser(ctx context.Context, userID int64) ([]store.OATHToken, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM hardware_tokens t LEFT JOIN users u ON u.id = t.user_id
		WHERE t.user_id = ? ORDER BY t.serial`, userID)
	if err != nil {
		return nil, wrap("hardware tokens of user", err)
	}
	return scanTokens(rows, "hardware tokens of user")
}

func (s queries) AdvanceTokenCounter(ctx context.Context, id, counter int64) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE hardware_tokens SET counter = ? WHERE id = ? AND counter < ?`, counter, id, counter)
	if err != nil {
		return false, wrap("advance token counter", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("advance token counter", err)
}

func (s queries) SetTokenCounter(ctx context.Context, id, counter int64) error {
	res, err := s.q.ExecContext(ctx, `UPDATE hardware_tokens SET counter = ? WHERE id = ?`, counter, id)
	return affectedOne(res, err, "set token counter")
}

// listedTokenColumns are a token and the columns of its user, which are
// NULL when it belongs to no one.
const listedTokenColumns = tokenColumns + `, u.user_key, u.realname, u.firstname, u.lastname, u.email, u.notes, u.status,
	u.failed_attempts, u.created_at, u.updated_at, u.last_login_at`

func scanListedToken(row interface{ Scan(...any) error }) (store.ListedToken, error) {
	var l store.ListedToken
	t := &l.OATHToken
	var user sql.NullInt64
	var created int64
	var key, realname, firstname, lastname, email, notes, status sql.NullString
	var failed, uCreated, uUpdated, lastLogin sql.NullInt64
	err := row.Scan(&t.ID, &t.Key, &t.Serial, &t.Type, &t.Secret, &t.Counter, &t.Step, &user, &t.Username, &created,
		&key, &realname, &firstname, &lastname, &email, &notes, &status, &failed, &uCreated, &uUpdated, &lastLogin)
	if err != nil {
		return l, err
	}
	t.UserID, t.CreatedAt = user.Int64, fromUnix(created)
	if user.Valid {
		l.User = &store.User{ID: user.Int64, Key: key.String, Username: t.Username, RealName: realname.String,
			FirstName: firstname.String, LastName: lastname.String, Email: email.String, Notes: notes.String,
			Status: status.String, FailedAttempts: int(failed.Int64), CreatedAt: fromUnix(uCreated.Int64),
			UpdatedAt: fromUnix(uUpdated.Int64), LastLoginAt: fromNullUnix(lastLogin)}
	}
	return l, nil
}

func (s queries) TokenPage(ctx context.Context, f store.TokenFilter) ([]store.ListedToken, int, error) {
	where := ` WHERE (? = '' OR t.type = ?) AND (? = '' OR t.serial = ?)`
	args := []any{f.Type, f.Type, f.Serial, f.Serial}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM hardware_tokens t`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("token page", err)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT `+listedTokenColumns+` FROM hardware_tokens t LEFT JOIN users u ON u.id = t.user_id`+
		where+` ORDER BY t.id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap("token page", err)
	}
	defer rows.Close()
	out := []store.ListedToken{}
	for rows.Next() {
		l, err := scanListedToken(rows)
		if err != nil {
			return nil, 0, wrap("token page", err)
		}
		out = append(out, l)
	}
	return out, total, wrap("token page", rows.Err())
}

func (s queries) TokenByKey(ctx context.Context, key string) (store.ListedToken, error) {
	l, err := scanListedToken(s.q.QueryRowContext(ctx, `SELECT `+listedTokenColumns+`
		FROM hardware_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return l, store.ErrNotFound
	}
	return l, wrap("token by key", err)
}

func (s queries) DeleteOATHToken(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM hardware_tokens WHERE id = ?`, id)
	return affectedOne(res, err, "delete hardware token")
}

func (s queries) UnassignOATHToken(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `UPDATE hardware_tokens SET user_id = NULL WHERE id = ?`, id)
	return affectedOne(res, err, "unassign hardware token")
}
