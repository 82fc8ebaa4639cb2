package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

const userColumns = `id, user_key, username, realname, firstname, lastname, email, notes,
	status, failed_attempts, created_at, updated_at, last_login_at`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var created, updated int64
	var lastLogin sql.NullInt64
	err := row.Scan(&u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
		&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
	return u, err
}

func (s queries) CreateUser(ctx context.Context, u *store.User) error {
	if err := checkUserText(*u); err != nil {
		return err
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO users (user_key, username, realname, firstname, lastname, email, notes, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Key, u.Username, u.RealName, u.FirstName, u.LastName, u.Email, u.Notes, u.Status,
		unix(u.CreatedAt), unix(u.UpdatedAt)).Scan(&u.ID)
	return wrap("create user", err)
}

func (s queries) UserByID(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, wrap("user by id", err)
}

func (s queries) UserByKey(ctx context.Context, key string) (store.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE user_key = ?`, key))
	return u, wrap("user by key", err)
}

func (s queries) UserByUsername(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	return u, wrap("user by username", err)
}

func (s queries) ReserveUserAttempt(ctx context.Context, id int64, max int) (int, bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `
		UPDATE users SET failed_attempts = failed_attempts + 1
		WHERE id = ? AND failed_attempts < ? AND status <> 'locked_out'
		RETURNING failed_attempts`, id, max).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		// Refused, or no such user: tell the two apart.
		var status string
		err = s.q.QueryRowContext(ctx, `SELECT status FROM users WHERE id = ?`, id).Scan(&status)
		return 0, false, wrap("reserve user attempt", err)
	}
	return n, err == nil, wrap("reserve user attempt", err)
}

func (s queries) FailUserAttempt(ctx context.Context, id int64, max int, at time.Time) (int, string, bool, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE users SET status = 'locked_out'
		WHERE id = ? AND status = 'active' AND failed_attempts >= ?`, id, max)
	if err != nil {
		return 0, "", false, wrap("fail user attempt", err)
	}
	locked, _ := res.RowsAffected()
	var failures int
	var status string
	err = s.q.QueryRowContext(ctx, `UPDATE users SET updated_at = ? WHERE id = ? RETURNING failed_attempts, status`,
		unix(at), id).Scan(&failures, &status)
	return failures, status, locked == 1, wrap("fail user attempt", err)
}

func (s queries) PassUserAttempt(ctx context.Context, id int64) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE users SET failed_attempts = 0 WHERE id = ? AND status <> 'locked_out'`, id)
	if err != nil {
		return false, wrap("pass user attempt", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s queries) ReturnUserAttempt(ctx context.Context, id int64) error {
	_, err := s.q.ExecContext(ctx, `
		UPDATE users SET failed_attempts = failed_attempts - 1
		WHERE id = ? AND failed_attempts > 0 AND status <> 'locked_out'`, id)
	return wrap("return user attempt", err)
}

func (s queries) SetUserStatus(ctx context.Context, id int64, status string, resetFailures bool, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE users SET status = ?, failed_attempts = CASE WHEN ? THEN 0 ELSE failed_attempts END, updated_at = ?
		WHERE id = ?`, status, resetFailures, unix(at), id)
	if err != nil {
		return wrap("set user status", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

// checkUserText applies the text rule (valid UTF-8, no NUL) to every free
// text of a user, so that no path can store one that breaks it, whatever
// its own checks.
func checkUserText(u store.User) error {
	return text.CheckAll("username", u.Username, "real name", u.RealName, "first name", u.FirstName,
		"last name", u.LastName, "email address", u.Email, "notes", u.Notes)
}
