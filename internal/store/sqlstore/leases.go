package sqlstore

import (
	"context"
	"time"
)

func (s queries) TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	// One statement, so two instances asking at once cannot both win: the
	// loser's upsert finds the winner's row and its WHERE is false.
	res, err := s.q.ExecContext(ctx, `
		INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, unix(until), unix(now))
	if err != nil {
		return false, wrap("take lease", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("take lease", err)
}

func (s queries) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return wrap("release lease", err)
}
