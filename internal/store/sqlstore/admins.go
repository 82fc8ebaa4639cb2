package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

const adminColumns = `id, admin_key, email, name, role, password_hash, totp_secret, totp_last_step,
	failed_attempts, last_failed_at, slow_until, session_gen, disabled_at, created_at, last_login_at`

func scanAdmin(row interface{ Scan(...any) error }) (store.Admin, error) {
	var a store.Admin
	var created int64
	var lastFailed, slow, disabled, lastLogin sql.NullInt64
	err := row.Scan(&a.ID, &a.Key, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.TOTPSecret, &a.TOTPLastStep,
		&a.FailedAttempts, &lastFailed, &slow, &a.SessionGen, &disabled, &created, &lastLogin)
	a.CreatedAt, a.LastLoginAt = fromUnix(created), fromNullUnix(lastLogin)
	a.LastFailedAt, a.SlowUntil, a.DisabledAt = fromNullUnix(lastFailed), fromNullUnix(slow), fromNullUnix(disabled)
	return a, err
}

func (s queries) CreateAdmin(ctx context.Context, a *store.Admin) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO admins (admin_key, email, name, role, password_hash, totp_secret, totp_last_step, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Key, a.Email, a.Name, a.Role, a.PasswordHash, a.TOTPSecret, a.TOTPLastStep, unix(a.CreatedAt)).Scan(&a.ID)
	return wrap("create admin", err)
}

func (s queries) AdminByID(ctx context.Context, id int64) (store.Admin, error) {
	a, err := scanAdmin(s.q.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE id = ?`, id))
	return a, wrap("admin by id", err)
}

func (s queries) AdminByKey(ctx context.Context, key string) (store.Admin, error) {
	a, err := scanAdmin(s.q.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE admin_key = ?`, key))
	return a, wrap("admin by key", err)
}

func (s queries) AdminByEmail(ctx context.Context, email string) (store.Admin, error) {
	a, err := scanAdmin(s.q.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE email = ?`, email))
	return a, wrap("admin by email", err)
}

func (s queries) Admins(ctx context.Context) ([]store.Admin, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+adminColumns+` FROM admins ORDER BY email`)
	if err != nil {
		return nil, wrap("admins", err)
	}
	defer rows.Close()
	var out []store.Admin
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, wrap("admins", err)
		}
		out = append(out, a)
	}
	return out, wrap("admins", rows.Err())
}

func (s queries) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM admins`).Scan(&n)
	return n, wrap("count admins", err)
}

func (s queries) CountAdminsWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM admins WHERE role = ? AND disabled_at IS NULL`, role).Scan(&n)
	return n, wrap("count admins with role", err)
}

func affectedOne(res sql.Result, err error, op string) error {
	if err != nil {
		return wrap(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) SetAdminRole(ctx context.Context, id int64, role string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET role = ? WHERE id = ?`, role, id)
	return affectedOne(res, err, "set admin role")
}

func (s queries) SetAdminDisabled(ctx context.Context, id int64, at *time.Time) error {
	var v sql.NullInt64
	if at != nil {
		v = sql.NullInt64{Int64: unix(*at), Valid: true}
	}
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET disabled_at = ? WHERE id = ?`, v, id)
	return affectedOne(res, err, "set admin disabled")
}

func (s queries) EndAdminSessions(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET session_gen = session_gen + 1 WHERE id = ?`, id)
	return affectedOne(res, err, "end admin sessions")
}

func (s queries) SetAdminPassword(ctx context.Context, id int64, hash string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET password_hash = ? WHERE id = ?`, hash, id)
	return affectedOne(res, err, "set admin password")
}

func (s queries) DeleteAdmin(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM admins WHERE id = ?`, id)
	return affectedOne(res, err, "delete admin")
}

func (s queries) SetAdminTOTP(ctx context.Context, id int64, sealedSecret []byte, step int64) error {
	// Only while unset: of two set-ups racing, the second changes nothing
	// and is told so, instead of silently replacing the first one's app.
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET totp_secret = ?, totp_last_step = ? WHERE id = ? AND totp_secret IS NULL`,
		sealedSecret, step, id)
	if err := affectedOne(res, err, "set admin totp"); err != store.ErrNotFound {
		return err
	}
	if _, err := s.AdminByID(ctx, id); err != nil {
		return err
	}
	return store.ErrConflict
}

func (s queries) AdvanceAdminTOTPStep(ctx context.Context, id int64, step int64) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
	if err != nil {
		return false, wrap("advance admin totp step", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("advance admin totp step", err)
}

func (s queries) RecordAdminFailure(ctx context.Context, id int64, ip string, at, forgetBefore time.Time) (int, error) {
	var failures int
	err := s.q.QueryRowContext(ctx, `
		UPDATE admins SET
			failed_attempts = CASE WHEN last_failed_at IS NULL OR last_failed_at <= ? THEN 1 ELSE failed_attempts + 1 END,
			last_failed_at = ?
		WHERE id = ?
		RETURNING failed_attempts`, unix(forgetBefore), unix(at), id).Scan(&failures)
	if err != nil {
		return 0, wrap("record admin failure", err)
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM admin_failed_addresses WHERE failed_at <= ?`, unix(forgetBefore)); err != nil {
		return 0, wrap("record admin failure", err)
	}
	_, err = s.q.ExecContext(ctx, `
		INSERT INTO admin_failed_addresses (admin_id, ip, failed_at) VALUES (?, ?, ?)
		ON CONFLICT (admin_id, ip) DO UPDATE SET failed_at = excluded.failed_at`, id, ip, unix(at))
	return failures, wrap("record admin failure", err)
}

func (s queries) SlowAdmin(ctx context.Context, id int64, until time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET slow_until = `+s.d.greatest("coalesce(slow_until, 0)", "?")+` WHERE id = ?`, unix(until), id)
	return affectedOne(res, err, "slow admin")
}

func (s queries) AdminAddressFailedSince(ctx context.Context, id int64, ip string, since time.Time) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM admin_failed_addresses WHERE admin_id = ? AND ip = ? AND failed_at > ?`, id, ip, unix(since)).Scan(&n)
	return n > 0, wrap("admin address failed since", err)
}

func (s queries) RecordAdminSignIn(ctx context.Context, id int64, ip string, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE admins SET last_login_at = ? WHERE id = ?`, unix(at), id)
	if err := affectedOne(res, err, "record admin sign-in"); err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `DELETE FROM admin_failed_addresses WHERE admin_id = ? AND ip = ?`, id, ip)
	return wrap("record admin sign-in", err)
}

func (s queries) CreateAdminSetupLink(ctx context.Context, l *store.AdminSetupLink) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO admin_setup_links (token_hash, role, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING id`,
		l.TokenHash, l.Role, unix(l.CreatedAt), unix(l.ExpiresAt)).Scan(&l.ID)
	return wrap("create admin setup link", err)
}

func (s queries) AdminSetupLinkByHash(ctx context.Context, hash []byte) (store.AdminSetupLink, error) {
	var l store.AdminSetupLink
	var created, expires int64
	var used sql.NullInt64
	err := s.q.QueryRowContext(ctx, `
		SELECT id, token_hash, role, created_at, expires_at, used_at FROM admin_setup_links WHERE token_hash = ?`, hash).
		Scan(&l.ID, &l.TokenHash, &l.Role, &created, &expires, &used)
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromUnix(created), fromUnix(expires), fromNullUnix(used)
	return l, wrap("admin setup link by hash", err)
}

func (s queries) UseAdminSetupLink(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE admin_setup_links SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`, unix(at), id, unix(at))
	if err != nil {
		return false, wrap("use admin setup link", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("use admin setup link", err)
}

func (s queries) EndAdminSetupLinks(ctx context.Context, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `
		UPDATE admin_setup_links SET expires_at = ? WHERE used_at IS NULL AND expires_at > ?`, unix(at), unix(at))
	return wrap("end admin setup links", err)
}
