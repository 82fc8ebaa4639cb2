package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

const activationColumns = `id, phone_id, COALESCE(user_id, 0), code_hash, created_by, created_at, expires_at, sent_at, sent_via, used_at`

func scanActivationCode(row interface{ Scan(...any) error }) (store.ActivationCode, error) {
	var c store.ActivationCode
	var created, expires int64
	var sent, used sql.NullInt64
	err := row.Scan(&c.ID, &c.PhoneID, &c.UserID, &c.CodeHash, &c.CreatedBy, &created, &expires, &sent, &c.SentVia, &used)
	c.CreatedAt, c.ExpiresAt, c.SentAt, c.UsedAt = fromUnix(created), fromUnix(expires), fromNullUnix(sent), fromNullUnix(used)
	return c, err
}

func (s queries) CreateActivationCode(ctx context.Context, c *store.ActivationCode) error {
	var userID sql.NullInt64
	if c.UserID != 0 {
		userID = sql.NullInt64{Int64: c.UserID, Valid: true}
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO activation_codes (phone_id, user_id, code_hash, created_by, created_at, expires_at, sent_at, sent_via)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.PhoneID, userID, c.CodeHash, c.CreatedBy, unix(c.CreatedAt), unix(c.ExpiresAt), nullUnix(c.SentAt), c.SentVia).Scan(&c.ID)
	return wrap("create activation code", err)
}

func (s queries) ActivationCodeByHash(ctx context.Context, hash []byte) (store.ActivationCode, error) {
	c, err := scanActivationCode(s.q.QueryRowContext(ctx, `SELECT `+activationColumns+` FROM activation_codes WHERE code_hash = ?`, hash))
	return c, wrap("activation code by hash", err)
}

func (s queries) LiveSentActivationCode(ctx context.Context, phoneID int64, now time.Time) (store.ActivationCode, error) {
	c, err := scanActivationCode(s.q.QueryRowContext(ctx, `
		SELECT `+activationColumns+` FROM activation_codes
		WHERE phone_id = ? AND sent_at IS NOT NULL AND used_at IS NULL AND expires_at > ?
		ORDER BY expires_at DESC LIMIT 1`, phoneID, unix(now)))
	return c, wrap("live sent activation code", err)
}

func (s queries) DeleteUnusedActivationCodes(ctx context.Context, phoneID int64) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM activation_codes WHERE phone_id = ? AND used_at IS NULL`, phoneID)
	if err != nil {
		return 0, wrap("delete unused activation codes", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete unused activation codes", err)
}

func (s queries) MarkActivationCodeSent(ctx context.Context, id int64, via string, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE activation_codes SET sent_at = ?, sent_via = ? WHERE id = ?`, unix(at), via, id)
	if err != nil {
		return wrap("mark activation code sent", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) MarkActivationCodeUsed(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE activation_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`, unix(at), id)
	if err != nil {
		return false, wrap("mark activation code used", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("mark activation code used", err)
}

func (s queries) UnactivatedDevices(ctx context.Context, now time.Time, limit int) ([]store.UnactivatedDevice, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT u.id, u.user_key, u.username, u.realname, u.firstname, u.lastname, u.email, u.notes,
			u.status, u.failed_attempts, u.created_at, u.updated_at, u.last_login_at, `+phoneColumns+`,
			(SELECT MAX(ac.expires_at) FROM activation_codes ac
			 WHERE ac.phone_id = p.id AND ac.sent_at IS NOT NULL AND ac.used_at IS NULL AND ac.expires_at > ?)
		FROM phones p
		JOIN user_phones up ON up.phone_id = p.id
		JOIN users u ON u.id = up.user_id
		WHERE p.activated = 0 AND (p.type = 'tablet' OR (p.type = 'mobile' AND p.platform <> 'Unknown'))
		ORDER BY u.username, p.id
		LIMIT ?`, unix(now), limit)
	if err != nil {
		return nil, wrap("unactivated devices", err)
	}
	defer rows.Close()
	var out []store.UnactivatedDevice
	for rows.Next() {
		var d store.UnactivatedDevice
		var uCreated, uUpdated, pCreated int64
		var lastLogin, activatedAt, pending sql.NullInt64
		err := rows.Scan(&d.User.ID, &d.User.Key, &d.User.Username, &d.User.RealName, &d.User.FirstName, &d.User.LastName,
			&d.User.Email, &d.User.Notes, &d.User.Status, &d.User.FailedAttempts, &uCreated, &uUpdated, &lastLogin,
			&d.Phone.ID, &d.Phone.Key, &d.Phone.Number, &d.Phone.Extension, &d.Phone.Name, &d.Phone.Type, &d.Phone.Platform,
			&d.Phone.TOTPSecret, &d.Phone.Activated, &activatedAt, &d.Phone.LastTOTPStep, &d.Phone.SMSPasscodesSent, &pCreated,
			&pending)
		if err != nil {
			return nil, wrap("unactivated devices", err)
		}
		d.User.CreatedAt, d.User.UpdatedAt, d.User.LastLoginAt = fromUnix(uCreated), fromUnix(uUpdated), fromNullUnix(lastLogin)
		d.Phone.ActivatedAt, d.Phone.CreatedAt = fromNullUnix(activatedAt), fromUnix(pCreated)
		d.PendingUntil = fromNullUnix(pending)
		d.Phone.TOTPSecret = nil // never leaves the store for a list
		out = append(out, d)
	}
	return out, wrap("unactivated devices", rows.Err())
}

func (s queries) UsersOfPhone(ctx context.Context, phoneID int64) ([]store.User, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+userColumns+` FROM users WHERE id IN (SELECT user_id FROM user_phones WHERE phone_id = ?) ORDER BY username`, phoneID)
	if err != nil {
		return nil, wrap("users of phone", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("users of phone", err)
		}
		out = append(out, u)
	}
	return out, wrap("users of phone", rows.Err())
}
