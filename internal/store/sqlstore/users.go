package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
		UPDATE users SET status = ?, failed_attempts = CASE WHEN ? = 1 THEN 0 ELSE failed_attempts END, updated_at = ?
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

// LoginSubjectByUsername answers in one statement what three did (user,
// groups, phones): every login reads them, and each statement is a round
// through database/sql, cgo and a read transaction of its own. In
// bench/duo the saving is small beside the cost of reading the phone rows
// themselves, which dominates both forms at 100,000 users.
//
// Outside a transaction the answer comes from the login cache when it can
// (logincache.go).
func (s queries) LoginSubjectByUsername(ctx context.Context, username string) (store.LoginSubject, error) {
	if s.login == nil || !s.login.users || s.tx != nil || s.login.sync(ctx) != nil {
		return s.loadLoginSubject(ctx, username)
	}
	ls, ok, gen := s.login.get(username)
	if ok {
		return ls, nil
	}
	ls, err := s.loadLoginSubject(ctx, username)
	if err == nil {
		s.login.put(gen, ls)
	}
	return ls, err
}

// cachedUser answers the user of id from the login cache, outside a
// transaction and once the cache has seen every commit before (sync), as
// LoginSubjectByUsername does; ok false means: read the table.
func (s queries) cachedUser(ctx context.Context, id int64) (store.User, bool) {
	if s.login == nil || !s.login.users || s.tx != nil || s.login.sync(ctx) != nil {
		return store.User{}, false
	}
	return s.login.userByID(id)
}

// loadLoginSubject reads LoginSubjectByUsername's answer from the tables.
func (s queries) loadLoginSubject(ctx context.Context, username string) (store.LoginSubject, error) {
	var out store.LoginSubject
	found := false
	err := s.scanLoginSubjects(ctx, `WHERE u.username = ? ORDER BY up.phone_id`, []any{username}, func(ls store.LoginSubject) {
		out, found = ls, true
	})
	if err != nil {
		return store.LoginSubject{}, err
	}
	if !found {
		return store.LoginSubject{}, store.ErrNotFound
	}
	return out, nil
}

// loginSubjectsAfter reads the login subjects of the n users after id
// afterID, in id order: the login cache's warm-up.
func (s queries) loginSubjectsAfter(ctx context.Context, afterID int64, n int) ([]store.LoginSubject, error) {
	var out []store.LoginSubject
	err := s.scanLoginSubjects(ctx, `WHERE u.id IN (SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ?)
		ORDER BY u.id, up.phone_id`, []any{afterID, n}, func(ls store.LoginSubject) { out = append(out, ls) })
	return out, err
}

// scanLoginSubjects runs the login subject query with where (which orders
// the rows by user, then phone) and hands each user's subject to emit. A
// user without phones is one row with the phone columns NULL, hence the
// COALESCEs; users with several phones repeat the user columns.
func (s queries) scanLoginSubjects(ctx context.Context, where string, args []any, emit func(store.LoginSubject)) error {
	rows, err := s.q.QueryContext(ctx, `
		SELECT u.id, u.user_key, u.username, u.realname, u.firstname, u.lastname, u.email, u.notes,
			u.status, u.failed_attempts, u.created_at, u.updated_at, u.last_login_at,
			(SELECT `+s.d.intList("g.group_id")+` FROM user_groups g WHERE g.user_id = u.id),
			p.id, COALESCE(p.phone_key, ''), COALESCE(p.number, ''), COALESCE(p.extension, ''),
			COALESCE(p.name, ''), COALESCE(p.type, ''), COALESCE(p.platform, ''), p.totp_secret,
			COALESCE(p.activated, 0), p.activated_at, COALESCE(p.last_totp_step, 0),
			COALESCE(p.sms_passcodes_sent, 0), COALESCE(p.created_at, 0)
		FROM users u
		LEFT JOIN user_phones up ON up.user_id = u.id
		LEFT JOIN phones p ON p.id = up.phone_id
		`+where, args...)
	if err != nil {
		return wrap("login subject", err)
	}
	defer rows.Close()
	var cur store.LoginSubject
	found := false
	for rows.Next() {
		var u store.User
		var created, updated int64
		var lastLogin, phoneID, activatedAt sql.NullInt64
		var groups sql.NullString
		var p store.Phone
		var phoneCreated int64
		if err := rows.Scan(&u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
			&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin, &groups,
			&phoneID, &p.Key, &p.Number, &p.Extension, &p.Name, &p.Type, &p.Platform, &p.TOTPSecret,
			&p.Activated, &activatedAt, &p.LastTOTPStep, &p.SMSPasscodesSent, &phoneCreated); err != nil {
			return wrap("login subject", err)
		}
		if !found || u.ID != cur.User.ID {
			if found {
				emit(cur)
			}
			found = true
			u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
			cur = store.LoginSubject{User: u}
			if cur.GroupIDs, err = parseIDList(groups.String); err != nil {
				return wrap("login subject", err)
			}
		}
		if phoneID.Valid {
			p.ID = phoneID.Int64
			p.ActivatedAt, p.CreatedAt = fromNullUnix(activatedAt), fromUnix(phoneCreated)
			cur.Phones = append(cur.Phones, p)
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("login subject", err)
	}
	if found {
		emit(cur)
	}
	return nil
}

// parseIDList reads group_concat's comma-separated integers; "" is none.
func parseIDList(list string) ([]int64, error) {
	if list == "" {
		return nil, nil
	}
	var ids []int64
	for part := range strings.SplitSeq(list, ",") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("group id %q: %w", part, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
