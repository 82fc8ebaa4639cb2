package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

func (s queries) CreateChallenge(ctx context.Context, c *store.Challenge) error {
	var phoneID, userID sql.NullInt64
	if c.PhoneID != nil {
		phoneID = sql.NullInt64{Int64: *c.PhoneID, Valid: true}
	}
	if c.UserID != 0 {
		userID = sql.NullInt64{Int64: c.UserID, Valid: true}
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO enrollment_challenges (challenge_key, user_id, username, user_key, method, phone_id, number, platform, name, secret, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Key, userID, c.Username, c.UserKey, c.Method, phoneID, c.Number, c.Platform, c.Name, c.Secret, unix(c.CreatedAt), unix(c.ExpiresAt)).Scan(&c.ID)
	return wrap("create challenge", err)
}

const challengeColumns = `id, challenge_key, user_id, username, user_key, method, phone_id, number, platform, name, secret, created_at, expires_at`

func scanChallenge(row interface{ Scan(...any) error }) (store.Challenge, error) {
	var c store.Challenge
	var phoneID, userID sql.NullInt64
	var created, expires int64
	err := row.Scan(&c.ID, &c.Key, &userID, &c.Username, &c.UserKey, &c.Method, &phoneID, &c.Number, &c.Platform, &c.Name, &c.Secret, &created, &expires)
	if phoneID.Valid {
		c.PhoneID = &phoneID.Int64
	}
	c.UserID = userID.Int64
	c.CreatedAt, c.ExpiresAt = fromUnix(created), fromUnix(expires)
	return c, err
}

func (s queries) ChallengeByKey(ctx context.Context, key string) (store.Challenge, error) {
	c, err := scanChallenge(s.q.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM enrollment_challenges WHERE challenge_key = ?`, key))
	return c, wrap("challenge by key", err)
}

func (s queries) ChallengesOfUsername(ctx context.Context, username string) ([]store.Challenge, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+challengeColumns+` FROM enrollment_challenges WHERE username = ? ORDER BY id`, username)
	if err != nil {
		return nil, wrap("challenges of username", err)
	}
	defer rows.Close()
	var out []store.Challenge
	for rows.Next() {
		c, err := scanChallenge(rows)
		if err != nil {
			return nil, wrap("challenges of username", err)
		}
		out = append(out, c)
	}
	return out, wrap("challenges of username", rows.Err())
}

func (s queries) DeleteChallenge(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM enrollment_challenges WHERE id = ?`, id)
	if err != nil {
		return wrap("delete challenge", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) DeleteExpiredChallenges(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM enrollment_challenges WHERE expires_at <= ?`, unix(before))
	if err != nil {
		return 0, wrap("delete expired challenges", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired challenges", err)
}
