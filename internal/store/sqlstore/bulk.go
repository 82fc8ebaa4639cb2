package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"enrollportal/internal/store"
)

// bulkRows is how many rows one statement inserts: SQLite allows 32,766
// parameters, and a user row takes 10.
const bulkRows = 500

// insertMany runs one multi-row INSERT per chunk of n rows; row i's values
// come from args(i). With RETURNING id, key the caller matches each id
// back to its row by key, as SQLite does not promise the order.
func (s queries) insertMany(ctx context.Context, head, placeholders, returning string, n int,
	args func(i int) []any, got func(id int64, key string) error) error {
	for start := 0; start < n; start += bulkRows {
		end := min(start+bulkRows, n)
		var b strings.Builder
		b.WriteString(head)
		vals := make([]any, 0, (end-start)*strings.Count(placeholders, "?"))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString(placeholders)
			vals = append(vals, args(i)...)
		}
		if returning == "" {
			if _, err := s.q.ExecContext(ctx, b.String(), vals...); err != nil {
				return err
			}
			continue
		}
		b.WriteString(" RETURNING " + returning)
		rows, err := s.q.QueryContext(ctx, b.String(), vals...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			if err := got(id, key); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s queries) CreateUsers(ctx context.Context, users []*store.User) error {
	byName := make(map[string]*store.User, len(users))
	for _, u := range users {
		if err := checkUserText(*u); err != nil {
			return err
		}
		byName[u.Username] = u
	}
	err := s.insertMany(ctx,
		`INSERT INTO users (user_key, username, realname, firstname, lastname, email, notes, status, created_at, updated_at) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, "id, username", len(users),
		func(i int) []any {
			u := users[i]
			return []any{u.Key, u.Username, u.RealName, u.FirstName, u.LastName, u.Email, u.Notes, u.Status, unix(u.CreatedAt), unix(u.UpdatedAt)}
		},
		func(id int64, name string) error {
			u, ok := byName[name]
			if !ok {
				return fmt.Errorf("inserted an unexpected user %q", name)
			}
			u.ID = id
			return nil
		})
	return wrap("create users", err)
}

func (s queries) CreatePhones(ctx context.Context, phones []*store.Phone) error {
	byKey := make(map[string]*store.Phone, len(phones))
	for _, p := range phones {
		byKey[p.Key] = p
	}
	err := s.insertMany(ctx,
		`INSERT INTO phones (phone_key, number, extension, name, type, platform, totp_secret, activated, activated_at, last_totp_step, created_at) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, "id, phone_key", len(phones),
		func(i int) []any {
			p := phones[i]
			return []any{p.Key, p.Number, p.Extension, p.Name, p.Type, p.Platform, p.TOTPSecret, p.Activated,
				nullUnix(p.ActivatedAt), p.LastTOTPStep, unix(p.CreatedAt)}
		},
		func(id int64, key string) error {
			p, ok := byKey[key]
			if !ok {
				return fmt.Errorf("inserted an unexpected phone %q", key)
			}
			p.ID = id
			return nil
		})
	return wrap("create phones", err)
}

func (s queries) AttachPhones(ctx context.Context, pairs [][2]int64) error {
	err := s.insertMany(ctx, `INSERT INTO user_phones (user_id, phone_id) VALUES `, `(?, ?)`, "", len(pairs),
		func(i int) []any { return []any{pairs[i][0], pairs[i][1]} }, nil)
	return wrap("attach phones", err)
}
