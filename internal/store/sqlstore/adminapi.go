package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"enrollportal/internal/store"
)

// idsJSON is a list of ids as the JSON array json_each reads: one bound
// parameter whatever the page's size.
func idsJSON(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func stringsJSON(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// userFilterSQL is the WHERE clause of f and its arguments.
func userFilterSQL(d *Dialect, f store.APIUserFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Username != "" {
		conds = append(conds, "u.username = ?")
		args = append(args, f.Username)
	}
	if f.Email != "" {
		conds = append(conds, "u.email = ?")
		args = append(args, f.Email)
	}
	if f.Usernames != nil {
		conds = append(conds, "u.username "+d.inTexts())
		args = append(args, stringsJSON(f.Usernames))
	}
	if f.Keys != nil {
		conds = append(conds, "u.user_key "+d.inTexts())
		args = append(args, stringsJSON(f.Keys))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (s queries) APIUsers(ctx context.Context, f store.APIUserFilter) ([]store.APIUser, int, error) {
	where, args := userFilterSQL(s.d, f)
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("api users count", err)
	}
	// The page's rows are chosen by rowid first, so that the associations
	// are read for the page only.
	rows, err := s.q.QueryContext(ctx, `SELECT u.id, u.user_key, u.username, u.realname, u.firstname, u.lastname,
			u.email, u.notes, u.status, u.failed_attempts, u.created_at, u.updated_at, u.last_login_at
		FROM users u WHERE u.id IN (SELECT u.id FROM users u`+where+` ORDER BY u.id LIMIT ? OFFSET ?)
		ORDER BY u.id`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap("api users", err)
	}
	var out []store.APIUser
	index := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var u store.APIUser
		var created, updated int64
		var lastLogin sql.NullInt64
		if err := rows.Scan(&u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
			&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin); err != nil {
			rows.Close()
			return nil, 0, wrap("api users", err)
		}
		u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
		index[u.ID] = len(out)
		ids = append(ids, u.ID)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("api users", err)
	}
	if len(out) == 0 {
		return out, total, nil
	}
	if err := s.fillUserAssociations(ctx, out, index, idsJSON(ids)); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// fillUserAssociations loads the aliases, groups, phones, tokens and
// security keys of a page of users, one statement each.
func (s queries) fillUserAssociations(ctx context.Context, out []store.APIUser, index map[int64]int, ids string) error {
	each := func(op, query string, scan func(rows *sql.Rows) error) error {
		rows, err := s.q.QueryContext(ctx, query, ids)
		if err != nil {
			return wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return wrap(op, err)
			}
		}
		return wrap(op, rows.Err())
	}
	err := each("api user aliases", `SELECT user_id, position, alias FROM user_aliases
		WHERE user_id `+s.d.inInts(), func(rows *sql.Rows) error {
		var uid int64
		var pos int
		var alias string
		if err := rows.Scan(&uid, &pos, &alias); err != nil {
			return err
		}
		out[index[uid]].Aliases[pos-1] = alias
		return nil
	})
	if err != nil {
		return err
	}
	err = each("api user groups", `SELECT ug.user_id, g.id, g.group_key, g.name, g.description, g.created_at
		FROM user_groups ug JOIN groups g ON g.id = ug.group_id
		WHERE ug.user_id `+s.d.inInts()+` ORDER BY g.name`, func(rows *sql.Rows) error {
		var uid, created int64
		var g store.Group
		if err := rows.Scan(&uid, &g.ID, &g.Key, &g.Name, &g.Description, &created); err != nil {
			return err
		}
		g.CreatedAt = fromUnix(created)
		out[index[uid]].Groups = append(out[index[uid]].Groups, g)
		return nil
	})
	if err != nil {
		return err
	}
	err = each("api user phones", `SELECT up.user_id, `+phoneColumns+`
		FROM user_phones up JOIN phones p ON p.id = up.phone_id
		WHERE up.user_id `+s.d.inInts()+` ORDER BY p.id`, func(rows *sql.Rows) error {
		var uid int64
		var p store.Phone
		var activatedAt sql.NullInt64
		var created int64
		if err := rows.Scan(&uid, &p.ID, &p.Key, &p.Number, &p.Extension, &p.Name, &p.Type, &p.Platform, &p.TOTPSecret,
			&p.Activated, &activatedAt, &p.LastTOTPStep, &p.SMSPasscodesSent, &created); err != nil {
			return err
		}
		p.ActivatedAt, p.CreatedAt = fromNullUnix(activatedAt), fromUnix(created)
		out[index[uid]].Phones = append(out[index[uid]].Phones, p)
		return nil
	})
	if err != nil {
		return err
	}
	err = each("api user tokens", `SELECT user_id, id, token_key, serial, type, step, created_at FROM hardware_tokens
		WHERE user_id `+s.d.inInts()+` ORDER BY serial`, func(rows *sql.Rows) error {
		var uid, created int64
		var t store.HardwareToken
		if err := rows.Scan(&uid, &t.ID, &t.Key, &t.Serial, &t.Type, &t.Step, &created); err != nil {
			return err
		}
		t.CreatedAt = fromUnix(created)
		out[index[uid]].Tokens = append(out[index[uid]].Tokens, t)
		return nil
	})
	if err != nil {
		return err
	}
	return each("api user security keys", `SELECT user_id, id, credential_key, name, created_at FROM webauthn_credentials
		WHERE user_id `+s.d.inInts()+` ORDER BY id`, func(rows *sql.Rows) error {
		var k store.SecurityKey
		var created int64
		if err := rows.Scan(&k.UserID, &k.ID, &k.Key, &k.Name, &created); err != nil {
			return err
		}
		k.CreatedAt = fromUnix(created)
		out[index[k.UserID]].Keys = append(out[index[k.UserID]].Keys, k)
		return nil
	})
}

func (s queries) SetUserAliases(ctx context.Context, userID int64, aliases [4]string) error {
	if _, err := s.q.ExecContext(ctx, `DELETE FROM user_aliases WHERE user_id = ?`, userID); err != nil {
		return wrap("set user aliases", err)
	}
	for i, a := range aliases {
		if a == "" {
			continue
		}
		if _, err := s.q.ExecContext(ctx, `INSERT INTO user_aliases (user_id, position, alias) VALUES (?, ?, ?)`,
			userID, i+1, a); err != nil {
			return wrap("set user aliases", err)
		}
	}
	return nil
}

func (s queries) UpdateUserProfile(ctx context.Context, u store.User, resetFailures bool) error {
	if err := checkUserText(u); err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `
		UPDATE users SET username = ?, realname = ?, firstname = ?, lastname = ?, email = ?, notes = ?, status = ?,
			failed_attempts = CASE WHEN ? = 1 THEN 0 ELSE failed_attempts END, updated_at = ?
		WHERE id = ?`, u.Username, u.RealName, u.FirstName, u.LastName, u.Email, u.Notes, u.Status,
		resetFailures, unix(u.UpdatedAt), u.ID)
	return affectedOne(res, err, "update user profile")
}

func (s queries) APIPhones(ctx context.Context, f store.APIPhoneFilter) ([]store.APIPhone, int, error) {
	var conds []string
	var args []any
	if f.Number != "" {
		conds = append(conds, "p.number = ?")
		args = append(args, f.Number)
		if f.Extension != nil {
			conds = append(conds, "p.extension = ?")
			args = append(args, *f.Extension)
		}
	}
	if f.Key != "" {
		conds = append(conds, "p.phone_key = ?")
		args = append(args, f.Key)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM phones p`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("api phones count", err)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT `+phoneColumns+`, p.predelay, p.postdelay FROM phones p`+where+`
		ORDER BY p.id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap("api phones", err)
	}
	var out []store.APIPhone
	index := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var p store.APIPhone
		var pre, post sql.NullString
		var created int64
		var activatedUnix sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Key, &p.Number, &p.Extension, &p.Name, &p.Type, &p.Platform, &p.TOTPSecret,
			&p.Activated, &activatedUnix, &p.LastTOTPStep, &p.SMSPasscodesSent, &created, &pre, &post); err != nil {
			rows.Close()
			return nil, 0, wrap("api phones", err)
		}
		p.ActivatedAt, p.CreatedAt = fromNullUnix(activatedUnix), fromUnix(created)
		if pre.Valid {
			p.Predelay = &pre.String
		}
		if post.Valid {
			p.Postdelay = &post.String
		}
		index[p.ID] = len(out)
		ids = append(ids, p.ID)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("api phones", err)
	}
	if len(out) == 0 {
		return out, total, nil
	}
	urows, err := s.q.QueryContext(ctx, `SELECT up.phone_id, `+userColumnsU+` FROM user_phones up JOIN users u ON u.id = up.user_id
		WHERE up.phone_id `+s.d.inInts()+` ORDER BY u.id`, idsJSON(ids))
	if err != nil {
		return nil, 0, wrap("api phone users", err)
	}
	defer urows.Close()
	for urows.Next() {
		var pid int64
		var u store.User
		var created, updated int64
		var lastLogin sql.NullInt64
		if err := urows.Scan(&pid, &u.ID, &u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes,
			&u.Status, &u.FailedAttempts, &created, &updated, &lastLogin); err != nil {
			return nil, 0, wrap("api phone users", err)
		}
		u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromUnix(created), fromUnix(updated), fromNullUnix(lastLogin)
		out[index[pid]].Users = append(out[index[pid]].Users, u)
	}
	return out, total, wrap("api phone users", urows.Err())
}

// userColumnsU is userColumns of the users table aliased u.
const userColumnsU = `u.id, u.user_key, u.username, u.realname, u.firstname, u.lastname, u.email, u.notes,
	u.status, u.failed_attempts, u.created_at, u.updated_at, u.last_login_at`

func (s queries) UpdateAPIPhone(ctx context.Context, p store.APIPhone) error {
	res, err := s.q.ExecContext(ctx, `UPDATE phones SET number = ?, extension = ?, name = ?, type = ?, platform = ?,
		predelay = ?, postdelay = ? WHERE id = ?`,
		p.Number, p.Extension, p.Name, p.Type, p.Platform, p.Predelay, p.Postdelay, p.ID)
	return affectedOne(res, err, "update api phone")
}

func (s queries) DeletePhone(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM phones WHERE id = ?`, id)
	return affectedOne(res, err, "delete phone")
}

func (s queries) DetachPhone(ctx context.Context, userID, phoneID int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM user_phones WHERE user_id = ? AND phone_id = ?`, userID, phoneID)
	return affectedOne(res, err, "detach phone")
}

func (s queries) UserPhoneLinked(ctx context.Context, userID, phoneID int64) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_phones WHERE user_id = ? AND phone_id = ?`, userID, phoneID).Scan(&n)
	return n > 0, wrap("user phone linked", err)
}

func (s queries) GroupPage(ctx context.Context, offset, limit int) ([]store.Group, int, error) {
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups`).Scan(&total); err != nil {
		return nil, 0, wrap("group page count", err)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT id, group_key, name, description, created_at FROM groups
		ORDER BY name LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, wrap("group page", err)
	}
	gs, err := scanGroups(rows, "group page")
	return gs, total, err
}

func (s queries) UpdateGroup(ctx context.Context, g store.Group) error {
	res, err := s.q.ExecContext(ctx, `UPDATE groups SET name = ?, description = ? WHERE id = ?`, g.Name, g.Description, g.ID)
	return affectedOne(res, err, "update group")
}

func (s queries) GroupMembers(ctx context.Context, groupID int64, offset, limit int) ([]store.User, int, error) {
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_groups WHERE group_id = ?`, groupID).Scan(&total); err != nil {
		return nil, 0, wrap("group members count", err)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT `+userColumnsU+` FROM user_groups ug JOIN users u ON u.id = ug.user_id
		WHERE ug.group_id = ? ORDER BY ug.user_id LIMIT ? OFFSET ?`, groupID, limit, offset)
	if err != nil {
		return nil, 0, wrap("group members", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, wrap("group members", err)
		}
		out = append(out, u)
	}
	return out, total, wrap("group members", rows.Err())
}

func (s queries) UserInGroup(ctx context.Context, userID, groupID int64) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_groups WHERE user_id = ? AND group_id = ?`, userID, groupID).Scan(&n)
	return n > 0, wrap("user in group", err)
}

func (s queries) AuditPage(ctx context.Context, f store.AuditPageFilter) ([]store.AuditEntry, int, error) {
	// at is in seconds; the bounds round outwards to whole seconds.
	where := ` WHERE at >= ? AND at < ?`
	args := []any{f.FromMS / 1000, (f.ToMS + 999) / 1000}
	if f.ActionPrefix != "" {
		where += ` AND action >= ? AND action < ?`
		args = append(args, f.ActionPrefix, f.ActionPrefix+prefixEnd)
	}
	if f.ActorTypes != nil {
		where += ` AND actor_type ` + s.d.inTexts()
		args = append(args, stringsJSON(f.ActorTypes))
	}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("audit page count", err)
	}
	order := " ORDER BY at, id"
	if f.Desc {
		order = " ORDER BY at DESC, id DESC"
	}
	out, err := s.auditEntries(ctx, "audit page", `SELECT `+auditColumns+` FROM audit_log`+where+order+`
		LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	return out, total, err
}
