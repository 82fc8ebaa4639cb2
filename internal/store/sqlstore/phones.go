package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

const phoneColumns = `p.id, p.phone_key, p.number, p.extension, p.name, p.type, p.platform, p.totp_secret,
	p.activated, p.activated_at, p.last_totp_step, p.sms_passcodes_sent, p.created_at`

func scanPhone(row interface{ Scan(...any) error }) (store.Phone, error) {
	var p store.Phone
	var activatedAt sql.NullInt64
	var created int64
	err := row.Scan(&p.ID, &p.Key, &p.Number, &p.Extension, &p.Name, &p.Type, &p.Platform, &p.TOTPSecret,
		&p.Activated, &activatedAt, &p.LastTOTPStep, &p.SMSPasscodesSent, &created)
	p.ActivatedAt, p.CreatedAt = fromNullUnix(activatedAt), fromUnix(created)
	return p, err
}

func (s queries) CreatePhone(ctx context.Context, p *store.Phone) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO phones (phone_key, number, extension, name, type, platform, totp_secret, activated, activated_at, last_totp_step, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Key, p.Number, p.Extension, p.Name, p.Type, p.Platform, p.TOTPSecret, p.Activated,
		nullUnix(p.ActivatedAt), p.LastTOTPStep, unix(p.CreatedAt)).Scan(&p.ID)
	return wrap("create phone", err)
}

func (s queries) AttachPhone(ctx context.Context, userID, phoneID int64) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO user_phones (user_id, phone_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, phoneID)
	return wrap("attach phone", err)
}

func (s queries) PhoneByID(ctx context.Context, id int64) (store.Phone, error) {
	p, err := scanPhone(s.q.QueryRowContext(ctx, `SELECT `+phoneColumns+` FROM phones p WHERE p.id = ?`, id))
	return p, wrap("phone by id", err)
}

func (s queries) PhonesByUser(ctx context.Context, userID int64) ([]store.Phone, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+phoneColumns+` FROM phones p JOIN user_phones up ON up.phone_id = p.id
		WHERE up.user_id = ? ORDER BY up.phone_id`, userID) // the index's order: no sort step
	if err != nil {
		return nil, wrap("phones by user", err)
	}
	defer rows.Close()
	var out []store.Phone
	for rows.Next() {
		p, err := scanPhone(rows)
		if err != nil {
			return nil, wrap("phones by user", err)
		}
		out = append(out, p)
	}
	return out, wrap("phones by user", rows.Err())
}

func (s queries) ActivatePhone(ctx context.Context, id int64, sealedSecret []byte, step int64, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE phones SET totp_secret = ?, activated = 1, activated_at = ?, last_totp_step = ? WHERE id = ?`,
		sealedSecret, unix(at), step, id)
	if err != nil {
		return wrap("activate phone", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) AdvanceTOTPStep(ctx context.Context, id int64, step int64) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE phones SET last_totp_step = ? WHERE id = ? AND last_totp_step < ?`, step, id, step)
	if err != nil {
		return false, wrap("advance totp step", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("advance totp step", err)
}
