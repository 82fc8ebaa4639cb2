package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"enrollportal/internal/store"
)

// The kinds of factor, with the SQL that finds the users holding one that
// counts: the same rule as policy.Factors.EnrolledUnder (a phone once
// activated with its TOTP secret, an activated mobile phone with a number
// for SMS, any registered security key, any assigned hardware token).
//
// The phone tests read the user's own phones first (CROSS JOIN keeps that
// order in SQLite; PostgreSQL treats it as the inner join it is): left to
// itself, SQLite answered the SMS test through phones_unactivated, reading
// every activated mobile phone of every user for each user without one, so
// that each enrollment step and code check grew slower with every enrolled
// phone (TestHasFactorReadsOnlyTheUsersOwnPhones).
var factorKinds = []struct {
	method string
	exists string // true for the user u holding one
	users  string // the ids of the users holding one
}{
	{store.MethodAuthenticatorApp,
		`EXISTS (SELECT 1 FROM user_phones up CROSS JOIN phones p WHERE up.user_id = u.id AND p.id = up.phone_id AND p.activated = 1 AND length(p.totp_secret) > 0)`,
		`SELECT up.user_id FROM user_phones up JOIN phones p ON p.id = up.phone_id WHERE p.activated = 1 AND length(p.totp_secret) > 0`},
	{store.MethodSMS,
		`EXISTS (SELECT 1 FROM user_phones up CROSS JOIN phones p WHERE up.user_id = u.id AND p.id = up.phone_id AND p.activated = 1 AND p.type = 'mobile' AND p.number <> '')`,
		`SELECT up.user_id FROM user_phones up JOIN phones p ON p.id = up.phone_id WHERE p.activated = 1 AND p.type = 'mobile' AND p.number <> ''`},
	{store.MethodSecurityKey,
		`EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)`,
		`SELECT user_id FROM webauthn_credentials`},
	{store.MethodHardwareToken,
		`EXISTS (SELECT 1 FROM hardware_tokens h WHERE h.user_id = u.id)`,
		`SELECT user_id FROM hardware_tokens WHERE user_id IS NOT NULL`},
}

func counts(methods []string, method string) bool {
	return methods == nil || slices.Contains(methods, method)
}

// enrolledExpr is true for the user u enrolled under methods (nil: holding
// any factor).
func enrolledExpr(methods []string) string {
	var or []string
	for _, k := range factorKinds {
		if counts(methods, k.method) {
			or = append(or, k.exists)
		}
	}
	if len(or) == 0 {
		return "0"
	}
	return "(" + strings.Join(or, "\n\tOR ") + ")"
}

// enrolledUsers selects the ids of the users enrolled under methods.
func enrolledUsers(methods []string) string {
	var union []string
	for _, k := range factorKinds {
		if counts(methods, k.method) {
			union = append(union, k.users)
		}
	}
	if len(union) == 0 {
		return "SELECT NULL WHERE 1 = 0" // PostgreSQL's WHERE takes no integer
	}
	return strings.Join(union, "\n\tUNION ")
}

func (s queries) CountUserFigures(ctx context.Context, now time.Time, methods []string) (store.UserCounts, error) {
	var c store.UserCounts
	// Each figure is counted from the smaller table it depends on, never by
	// probing every user.
	err := s.q.QueryRowContext(ctx, `
		SELECT
			(SELECT COUNT(*) FROM users),
			(SELECT COUNT(*) FROM (`+enrolledUsers(methods)+`) AS enrolled),
			(SELECT COUNT(DISTINCT user_id) FROM enrollment_links
				WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ?),
			(SELECT COUNT(DISTINCT up.user_id) FROM phones p JOIN user_phones up ON up.phone_id = p.id
				WHERE p.activated = 0 AND p.type IN ('mobile', 'tablet'))`, unix(now)).
		Scan(&c.Total, &c.Enrolled, &c.Pending, &c.UnactivatedDevices)
	return c, wrap("count user figures", err)
}

// prefixEnd is an upper bound for every string that starts with a prefix:
// U+10FFFF encodes to bytes that sort after every valid UTF-8 continuation.
const prefixEnd = "\U0010FFFF"

func (s queries) SearchUsers(ctx context.Context, q store.UserQuery) ([]store.UserRow, error) {
	where := []string{"p.username > ?"}
	args := []any{q.After}
	if q.Prefix != "" {
		// One index range per column, united: an OR of the three would
		// make SQLite walk the username index over every user.
		lo := strings.ToLower(q.Prefix)
		hi := lo + prefixEnd
		where = append(where, `p.username IN (
			SELECT username FROM users WHERE username >= ? AND username < ?
			UNION SELECT username FROM users WHERE `+s.d.nocaseRange("email")+`
			UNION SELECT username FROM users WHERE `+s.d.nocaseRange("realname")+`)`)
		args = append(args, lo, hi, lo, hi, lo, hi)
	}
	args = append(args, q.Limit)
	cols := strings.ReplaceAll("u."+strings.Join(strings.Fields(strings.ReplaceAll(userColumns, ",", " ")), ", u."), "\n", "")
	// The page's ids are chosen first, so that the enrolled flag is worked
	// out for the rows shown only, not for every match before sorting.
	rows, err := s.q.QueryContext(ctx, `SELECT `+cols+`, `+enrolledExpr(q.Methods)+`
		FROM users u WHERE u.id IN (
			SELECT p.id FROM users p WHERE `+strings.Join(where, " AND ")+` ORDER BY p.username LIMIT ?)
		ORDER BY u.username`, args...)
	if err != nil {
		return nil, wrap("search users", err)
	}
	defer rows.Close()
	var out []store.UserRow
	for rows.Next() {
		var r store.UserRow
		var created, updated int64
		var lastLogin sql.NullInt64
		err := rows.Scan(&r.ID, &r.Key, &r.Username, &r.RealName, &r.FirstName, &r.LastName, &r.Email, &r.Notes,
			&r.Status, &r.FailedAttempts, &created, &updated, &lastLogin, &r.Enrolled)
		if err != nil {
			return nil, wrap("search users", err)
		}
		r.CreatedAt, r.UpdatedAt, r.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
		out = append(out, r)
	}
	return out, wrap("search users", rows.Err())
}

func (s queries) UpdateUser(ctx context.Context, u store.User, resetFailures bool) error {
	if err := checkUserText(u); err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `
		UPDATE users SET realname = ?, email = ?, notes = ?, status = ?,
			failed_attempts = CASE WHEN ? = 1 THEN 0 ELSE failed_attempts END, updated_at = ?
		WHERE id = ?`, u.RealName, u.Email, u.Notes, u.Status, resetFailures, unix(u.UpdatedAt), u.ID)
	return affectedOne(res, err, "update user")
}

func (s queries) DeleteUser(ctx context.Context, id int64) error {
	// Phones belong to users through user_phones; a phone no other user
	// shares goes with its user, so that no orphaned secret is left.
	if _, err := s.q.ExecContext(ctx, `
		DELETE FROM phones WHERE id IN (SELECT phone_id FROM user_phones WHERE user_id = ?)
			AND id NOT IN (SELECT phone_id FROM user_phones WHERE user_id <> ?)`, id, id); err != nil {
		return wrap("delete user phones", err)
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return affectedOne(res, err, "delete user")
}

func (s queries) HardwareTokensByUser(ctx context.Context, userID int64) ([]store.HardwareToken, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, token_key, serial, type, step, created_at FROM hardware_tokens WHERE user_id = ? ORDER BY serial`, userID)
	if err != nil {
		return nil, wrap("hardware tokens by user", err)
	}
	defer rows.Close()
	var out []store.HardwareToken
	for rows.Next() {
		var t store.HardwareToken
		var created int64
		if err := rows.Scan(&t.ID, &t.Key, &t.Serial, &t.Type, &t.Step, &created); err != nil {
			return nil, wrap("hardware tokens by user", err)
		}
		t.CreatedAt = fromUnix(created)
		out = append(out, t)
	}
	return out, wrap("hardware tokens by user", rows.Err())
}

func (s queries) PendingEnrollments(ctx context.Context, now time.Time, afterID int64, limit int) ([]store.PendingEnrollment, error) {
	lcols := "l." + strings.Join(strings.Split(strings.ReplaceAll(linkColumns, " ", ""), ","), ", l.")
	ucols := strings.ReplaceAll("u."+strings.Join(strings.Fields(strings.ReplaceAll(userColumns, ",", " ")), ", u."), "\n", "")
	// The delivery state is the latest outbox message sent for the link
	// (intent keys enroll-link:<id>:send:<n>, found as a key range on the
	// unique index). A user who is enrolled is not pending, whatever links
	// remain from before.
	rows, err := s.q.QueryContext(ctx, `
		SELECT `+lcols+`, `+ucols+`, m.status, m.sent_at
		FROM enrollment_links l JOIN users u ON u.id = l.user_id
		LEFT JOIN outbox m ON m.id = (SELECT o.id FROM outbox o
			WHERE o.intent_key >= 'enroll-link:' || l.id || ':send:' AND o.intent_key < 'enroll-link:' || l.id || ':send;'
			ORDER BY o.id DESC LIMIT 1)
		WHERE l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > ? AND l.id > ? AND NOT `+enrolledExpr(nil)+`
		ORDER BY l.id LIMIT ?`, unix(now), afterID, limit)
	if err != nil {
		return nil, wrap("pending enrollments", err)
	}
	defer rows.Close()
	var out []store.PendingEnrollment
	for rows.Next() {
		var p store.PendingEnrollment
		var lcreated, lexpires, ucreated, uupdated int64
		var sent, used, revoked, lastLogin, delivered sql.NullInt64
		var delivery sql.NullString
		l, u := &p.Link, &p.User
		err := rows.Scan(&l.ID, &l.UserID, &l.TokenHash, &l.TokenSalt, &l.CreatedBy, &lcreated, &lexpires, &sent, &used, &revoked, &l.Reset,
			&u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
			&u.Status, &u.FailedAttempts, &ucreated, &uupdated, &lastLogin, &delivery, &delivered)
		if err != nil {
			return nil, wrap("pending enrollments", err)
		}
		l.CreatedAt, l.ExpiresAt = fromUnix(lcreated), fromUnix(lexpires)
		l.SentAt, l.UsedAt, l.RevokedAt = fromNullUnix(sent), fromNullUnix(used), fromNullUnix(revoked)
		u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(ucreated), fromUnix(uupdated), fromNullUnix(lastLogin)
		p.Delivery, p.DeliveredAt = delivery.String, fromNullUnix(delivered)
		out = append(out, p)
	}
	return out, wrap("pending enrollments", rows.Err())
}

func (s queries) PendingLinkOfUser(ctx context.Context, userID int64, now time.Time) (store.EnrollmentLink, error) {
	l, err := scanLink(s.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM enrollment_links
		WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		ORDER BY id DESC LIMIT 1`, userID, unix(now)))
	return l, wrap("pending link of user", err)
}

func (s queries) MarkLinkSent(ctx context.Context, id int64, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE enrollment_links SET sent_at = ? WHERE id = ?`, unix(at), id)
	return affectedOne(res, err, "mark link sent")
}

func (s queries) CountMessagesWithIntentPrefix(ctx context.Context, prefix string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE intent_key >= ? AND intent_key < ?`,
		prefix, prefix+prefixEnd).Scan(&n)
	return n, wrap("count messages with intent prefix", err)
}

func (s queries) GroupByKey(ctx context.Context, key string) (store.Group, error) {
	var g store.Group
	var created int64
	err := s.q.QueryRowContext(ctx, `SELECT id, group_key, name, description, created_at FROM groups WHERE group_key = ?`, key).
		Scan(&g.ID, &g.Key, &g.Name, &g.Description, &created)
	g.CreatedAt = fromUnix(created)
	return g, wrap("group by key", err)
}

func (s queries) DeleteGroup(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM groups WHERE id = ?`, id)
	return affectedOne(res, err, "delete group")
}

func (s queries) CountGroupMembers(ctx context.Context, groupID int64) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_groups WHERE group_id = ?`, groupID).Scan(&n)
	return n, wrap("count group members", err)
}

func (s queries) SearchAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where, args = append(where, "action >= ? AND action < ?"), append(args, f.Action, f.Action+prefixEnd)
		} else {
			where, args = append(where, "action = ?"), append(args, f.Action)
		}
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, unix(f.To))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return s.auditEntries(ctx, "search audit", q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
}
