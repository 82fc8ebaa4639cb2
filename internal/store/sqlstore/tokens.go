package sqlstore

import (
	"context"
	"database/sql"
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
