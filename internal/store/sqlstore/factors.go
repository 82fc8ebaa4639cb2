package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"enrollportal/internal/store"
)

// hasFactorQuery uses the one definition of "enrolled" (enrolledExpr).
var hasFactorQuery = `SELECT ` + enrolledExpr(nil) + ` FROM users u WHERE u.id = ?`

// HasFactor reads the user's own factors only, however many other users hold
// some (see factorKinds): each enrollment page and code check asks it.
func (s queries) HasFactor(ctx context.Context, userID int64) (bool, error) {
	var has bool
	err := s.q.QueryRowContext(ctx, hasFactorQuery, userID).Scan(&has)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return has, wrap("has factor", err)
}

func (s queries) CreateBypassCode(ctx context.Context, b *store.BypassCode) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO bypass_codes (code_key, user_id, code_hash, uses_left, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		b.Key, b.UserID, b.CodeHash, b.UsesLeft, b.CreatedBy, unix(b.CreatedAt), nullUnix(b.ExpiresAt)).Scan(&b.ID)
	return wrap("create bypass code", err)
}

func (s queries) BypassCodesByUser(ctx context.Context, userID int64) ([]store.BypassCode, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+bypassColumns+` FROM bypass_codes b WHERE b.user_id = ? ORDER BY b.id`, userID)
	if err != nil {
		return nil, wrap("bypass codes by user", err)
	}
	defer rows.Close()
	var out []store.BypassCode
	for rows.Next() {
		b, err := scanBypassCode(rows)
		if err != nil {
			return nil, wrap("bypass codes by user", err)
		}
		out = append(out, b)
	}
	return out, wrap("bypass codes by user", rows.Err())
}

const bypassColumns = `b.id, COALESCE(b.code_key, ''), b.user_id, b.code_hash, b.uses_left, b.created_by, b.created_at, b.expires_at`

// scanBypassCode reads bypassColumns, then dest (the user's columns when
// the query joins them).
func scanBypassCode(row interface{ Scan(...any) error }, dest ...any) (store.BypassCode, error) {
	var b store.BypassCode
	var created int64
	var expires sql.NullInt64
	err := row.Scan(append([]any{&b.ID, &b.Key, &b.UserID, &b.CodeHash, &b.UsesLeft, &b.CreatedBy, &created, &expires}, dest...)...)
	b.CreatedAt, b.ExpiresAt = fromUnix(created), fromNullUnix(expires)
	return b, err
}

// listedBypassColumns are a code and its user.
const listedBypassColumns = bypassColumns + `, u.id, u.user_key, u.username, u.realname, u.firstname, u.lastname, u.email, u.notes,
	u.status, u.failed_attempts, u.created_at, u.updated_at, u.last_login_at`

func scanListedBypassCode(row interface{ Scan(...any) error }) (store.ListedBypassCode, error) {
	var l store.ListedBypassCode
	u := &l.User
	var created, updated int64
	var lastLogin sql.NullInt64
	b, err := scanBypassCode(row, &u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
		&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin)
	l.BypassCode = b
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
	return l, err
}

func (s queries) LiveBypassCodes(ctx context.Context, f store.BypassCodeFilter) ([]store.ListedBypassCode, int, error) {
	where := ` WHERE b.uses_left > 0 AND (b.expires_at IS NULL OR b.expires_at > ?) AND (? = 0 OR b.user_id = ?)`
	args := []any{unix(f.Now), f.UserID, f.UserID}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM bypass_codes b`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("live bypass codes", err)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT `+listedBypassColumns+` FROM bypass_codes b JOIN users u ON u.id = b.user_id`+
		where+` ORDER BY b.id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap("live bypass codes", err)
	}
	defer rows.Close()
	out := []store.ListedBypassCode{}
	for rows.Next() {
		l, err := scanListedBypassCode(rows)
		if err != nil {
			return nil, 0, wrap("live bypass codes", err)
		}
		out = append(out, l)
	}
	return out, total, wrap("live bypass codes", rows.Err())
}

func (s queries) BypassCodeByKey(ctx context.Context, key string) (store.ListedBypassCode, error) {
	l, err := scanListedBypassCode(s.q.QueryRowContext(ctx, `SELECT `+listedBypassColumns+`
		FROM bypass_codes b JOIN users u ON u.id = b.user_id WHERE b.code_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return l, store.ErrNotFound
	}
	return l, wrap("bypass code by key", err)
}

func (s queries) DeleteBypassCode(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM bypass_codes WHERE id = ?`, id)
	return affectedOne(res, err, "delete bypass code")
}

func (s queries) SpendBypassCode(ctx context.Context, userID int64, hash []byte, now time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE bypass_codes SET uses_left = uses_left - 1
		WHERE user_id = ? AND code_hash = ? AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?)`,
		userID, hash, unix(now))
	if err != nil {
		return false, wrap("spend bypass code", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, wrap("spend bypass code", err)
	}
	_, err = s.q.ExecContext(ctx, `DELETE FROM bypass_codes WHERE user_id = ? AND code_hash = ? AND uses_left <= 0`, userID, hash)
	return true, wrap("spend bypass code", err)
}

func (s queries) DeleteBypassCodes(ctx context.Context, userID int64, createdByPrefix string) (int64, error) {
	res, err := s.q.ExecContext(ctx, `
		DELETE FROM bypass_codes WHERE user_id = ? AND (? = '' OR substr(created_by, 1, length(?)) = ?)`,
		userID, createdByPrefix, createdByPrefix, createdByPrefix)
	if err != nil {
		return 0, wrap("delete bypass codes", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete bypass codes", err)
}

func (s queries) SetPhoneName(ctx context.Context, phoneID int64, name string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE phones SET name = ? WHERE id = ?`, name, phoneID)
	return affectedOne(res, err, "set phone name")
}

func (s queries) SetSecurityKeyName(ctx context.Context, userID, keyID int64, name string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, keyID, userID)
	return affectedOne(res, err, "set security key name")
}

func (s queries) DeleteSecurityKey(ctx context.Context, userID, keyID int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, keyID, userID)
	return affectedOne(res, err, "delete security key")
}

func (s queries) HasLiveResetLink(ctx context.Context, userID int64, now time.Time) (bool, error) {
	var has bool
	err := s.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM enrollment_links
		WHERE user_id = ? AND reset = 1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?)`, userID, unix(now)).Scan(&has)
	return has, wrap("has live reset link", err)
}
