package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

func (s queries) SMSPasscodesSentSince(ctx context.Context, phoneID int64, since time.Time) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM sms_passcodes WHERE phone_id = ? AND created_at > ?`,
		phoneID, unix(since)).Scan(&n, &oldest)
	if err != nil || !oldest.Valid {
		return n, time.Time{}, wrap("sms passcodes sent since", err)
	}
	return n, fromUnix(oldest.Int64), nil
}

func (s queries) CreateSMSPasscode(ctx context.Context, p *store.SMSPasscode, forgetBefore time.Time) error {
	if _, err := s.q.ExecContext(ctx, `DELETE FROM sms_passcodes WHERE phone_id = ? AND created_at < ?`,
		p.PhoneID, unix(forgetBefore)); err != nil {
		return wrap("create sms passcode", err)
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO sms_passcodes (user_id, phone_id, code_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		p.UserID, p.PhoneID, p.CodeHash, unix(p.CreatedAt), unix(p.ExpiresAt)).Scan(&p.ID)
	if err != nil {
		return wrap("create sms passcode", err)
	}
	_, err = s.q.ExecContext(ctx, `UPDATE phones SET sms_passcodes_sent = sms_passcodes_sent + 1 WHERE id = ?`, p.PhoneID)
	return wrap("create sms passcode", err)
}

func (s queries) LiveSMSPasscodes(ctx context.Context, userID int64, now time.Time) ([]store.SMSPasscode, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, user_id, phone_id, code_hash, created_at, expires_at
		FROM sms_passcodes WHERE user_id = ? AND expires_at > ? AND used_at IS NULL ORDER BY id`,
		userID, unix(now))
	if err != nil {
		return nil, wrap("live sms passcodes", err)
	}
	defer rows.Close()
	var out []store.SMSPasscode
	for rows.Next() {
		var p store.SMSPasscode
		var created, expires int64
		if err := rows.Scan(&p.ID, &p.UserID, &p.PhoneID, &p.CodeHash, &created, &expires); err != nil {
			return nil, wrap("live sms passcodes", err)
		}
		p.CreatedAt, p.ExpiresAt = fromUnix(created), fromUnix(expires)
		out = append(out, p)
	}
	return out, wrap("live sms passcodes", rows.Err())
}

func (s queries) SpendSMSPasscode(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE sms_passcodes SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
		unix(now), id, unix(now))
	if err != nil {
		return false, wrap("spend sms passcode", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("spend sms passcode", err)
}
