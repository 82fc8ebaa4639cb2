package sqlstore

import (
	"context"
	"strings"

	"enrollportal/internal/store"
)

func (s queries) UserByAlias(ctx context.Context, alias string) (store.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `
		SELECT `+userColumns+` FROM users WHERE id = (SELECT user_id FROM user_aliases WHERE alias = ?)`, alias))
	return u, wrap("user by alias", err)
}

func (s queries) UserAliases(ctx context.Context, userID int64) ([store.MaxAliases]string, error) {
	var out [store.MaxAliases]string
	rows, err := s.q.QueryContext(ctx, `SELECT position, alias FROM user_aliases WHERE user_id = ?`, userID)
	if err != nil {
		return out, wrap("user aliases", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pos int
		var alias string
		if err := rows.Scan(&pos, &alias); err != nil {
			return out, wrap("user aliases", err)
		}
		if pos >= 1 && pos <= store.MaxAliases {
			out[pos-1] = alias
		}
	}
	return out, wrap("user aliases", rows.Err())
}

func (s queries) SetUserAlias(ctx context.Context, userID int64, position int, alias string) error {
	if alias == "" {
		_, err := s.q.ExecContext(ctx, `DELETE FROM user_aliases WHERE user_id = ? AND position = ?`, userID, position)
		return wrap("clear user alias", err)
	}
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO user_aliases (user_id, position, alias) VALUES (?, ?, ?)
		ON CONFLICT (user_id, position) DO UPDATE SET alias = excluded.alias`, userID, position, alias)
	return wrap("set user alias", err)
}

func (s queries) EachUserName(ctx context.Context, fn func(store.UserNameIndexEntry) error) error {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, username, 0 FROM users
		UNION ALL
		SELECT user_id, alias, position FROM user_aliases`)
	if err != nil {
		return wrap("each user name", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.UserNameIndexEntry
		if err := rows.Scan(&e.UserID, &e.Name, &e.Position); err != nil {
			return wrap("each user name", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return wrap("each user name", rows.Err())
}

func (s queries) PhoneByNumber(ctx context.Context, number, extension string) (store.Phone, error) {
	p, err := scanPhone(s.q.QueryRowContext(ctx, `
		SELECT `+phoneColumns+` FROM phones p WHERE p.number = ? AND p.extension = ? ORDER BY p.id LIMIT 1`, number, extension))
	return p, wrap("phone by number", err)
}

func (s queries) EachPhoneNumber(ctx context.Context, fn func(id int64, number, extension string) error) error {
	rows, err := s.q.QueryContext(ctx, `SELECT id, number, extension FROM phones WHERE number <> ''`)
	if err != nil {
		return wrap("each phone number", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var number, ext string
		if err := rows.Scan(&id, &number, &ext); err != nil {
			return wrap("each phone number", err)
		}
		if err := fn(id, number, ext); err != nil {
			return err
		}
	}
	return wrap("each phone number", rows.Err())
}

func (s queries) UpdatePhoneDetails(ctx context.Context, p store.Phone) error {
	res, err := s.q.ExecContext(ctx, `UPDATE phones SET type = ?, platform = ?, name = ? WHERE id = ?`,
		p.Type, p.Platform, p.Name, p.ID)
	if err != nil {
		return wrap("update phone details", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) HardwareTokenBySerial(ctx context.Context, serial string) (int64, error) {
	var id int64
	err := s.q.QueryRowContext(ctx, `SELECT id FROM hardware_tokens WHERE serial = ? ORDER BY id LIMIT 1`, serial).Scan(&id)
	return id, wrap("hardware token by serial", err)
}

func (s queries) AssignHardwareToken(ctx context.Context, tokenID, userID int64) error {
	res, err := s.q.ExecContext(ctx, `UPDATE hardware_tokens SET user_id = ? WHERE id = ?`, userID, tokenID)
	if err != nil {
		return wrap("assign hardware token", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) InsertAudits(ctx context.Context, entries []store.AuditEntry) error {
	err := s.insertMany(ctx,
		`INSERT INTO audit_log (at, actor_type, actor, action, target_type, target, ip, details) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?)`, "", len(entries),
		func(i int) []any {
			e := entries[i]
			return []any{unix(e.At), e.ActorType, e.Actor, e.Action, e.TargetType, e.Target, e.IP, e.Details}
		}, nil)
	return wrap("insert audits", err)
}

func (s queries) AddUsersToGroups(ctx context.Context, pairs [][2]int64) error {
	// ON CONFLICT must follow the VALUES list, so the chunks are built here
	// rather than with insertMany.
	for start := 0; start < len(pairs); start += bulkRows {
		end := min(start+bulkRows, len(pairs))
		var b strings.Builder
		b.WriteString(`INSERT INTO user_groups (user_id, group_id) VALUES `)
		args := make([]any, 0, 2*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?)`)
			args = append(args, pairs[i][0], pairs[i][1])
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := s.q.ExecContext(ctx, b.String(), args...); err != nil {
			return wrap("add users to groups", err)
		}
	}
	return nil
}
