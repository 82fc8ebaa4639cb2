package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"enrollportal/internal/store"
)

// HasFactor uses the one definition of "enrolled" (enrolledExpr).
func (s queries) HasFactor(ctx context.Context, userID int64) (bool, error) {
	var has bool
	err := s.q.QueryRowContext(ctx, `SELECT `+enrolledExpr(nil)+` FROM users u WHERE u.id = ?`, userID).Scan(&has)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return has, wrap("has factor", err)
}

func (s queries) CreateBypassCode(ctx context.Context, b *store.BypassCode) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO bypass_codes (user_id, code_hash, uses_left, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		b.UserID, b.CodeHash, b.UsesLeft, b.CreatedBy, unix(b.CreatedAt), nullUnix(b.ExpiresAt)).Scan(&b.ID)
	return wrap("create bypass code", err)
}

func (s queries) BypassCodesByUser(ctx context.Context, userID int64) ([]store.BypassCode, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, user_id, code_hash, uses_left, created_by, created_at, expires_at
		FROM bypass_codes WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, wrap("bypass codes by user", err)
	}
	defer rows.Close()
	var out []store.BypassCode
	for rows.Next() {
		var b store.BypassCode
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&b.ID, &b.UserID, &b.CodeHash, &b.UsesLeft, &b.CreatedBy, &created, &expires); err != nil {
			return nil, wrap("bypass codes by user", err)
		}
		b.CreatedAt, b.ExpiresAt = fromUnix(created), fromNullUnix(expires)
		out = append(out, b)
	}
	return out, wrap("bypass codes by user", rows.Err())
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
