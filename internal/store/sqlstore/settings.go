package sqlstore

import "context"

func (s queries) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	return v, wrap("setting", err)
}

func (s queries) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.q.ExecContext(ctx, `
		INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return wrap("put setting", err)
}
