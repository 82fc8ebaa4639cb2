package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

const linkColumns = `id, user_id, token_hash, token_salt, created_by, created_at, expires_at, sent_at, used_at, revoked_at, reset`

func scanLink(row interface{ Scan(...any) error }) (store.EnrollmentLink, error) {
	var l store.EnrollmentLink
	var created, expires int64
	var sent, used, revoked sql.NullInt64
	err := row.Scan(&l.ID, &l.UserID, &l.TokenHash, &l.TokenSalt, &l.CreatedBy, &created, &expires, &sent, &used, &revoked, &l.Reset)
	l.CreatedAt, l.ExpiresAt = fromUnix(created), fromUnix(expires)
	l.SentAt, l.UsedAt, l.RevokedAt = fromNullUnix(sent), fromNullUnix(used), fromNullUnix(revoked)
	return l, err
}

func (s queries) CreateEnrollmentLink(ctx context.Context, l *store.EnrollmentLink) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO enrollment_links (user_id, token_hash, token_salt, created_by, created_at, expires_at, sent_at, reset)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.UserID, l.TokenHash, l.TokenSalt, l.CreatedBy, unix(l.CreatedAt), unix(l.ExpiresAt), nullUnix(l.SentAt), l.Reset).Scan(&l.ID)
	return wrap("create enrollment link", err)
}

func (s queries) EnrollmentLinkByHash(ctx context.Context, hash []byte) (store.EnrollmentLink, error) {
	l, err := scanLink(s.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM enrollment_links WHERE token_hash = ?`, hash))
	return l, wrap("enrollment link by hash", err)
}

// EnrollmentLinkAndUser reads the link from its covering index alone
// (migration 00176); the planner would otherwise pick the unique index on
// token_hash and then read the table row too. On PostgreSQL the user comes
// in the same statement, a join, which spares a round trip. On SQLite,
// where a statement costs no round trip, the user is a second statement by
// primary key: the join cost about 60 us of CPU against 28 us for the two
// statements (bench/enroll's landing page, whose busiest query this is),
// most of it in the driver's handling of the joined row; outside a
// transaction the user comes from the login cache when it holds them.
func (s queries) EnrollmentLinkAndUser(ctx context.Context, hash []byte) (store.EnrollmentLink, store.User, error) {
	var l store.EnrollmentLink
	var u store.User
	var created, expires int64
	var sent, used, revoked sql.NullInt64
	var err error
	if s.d.postgres() {
		err = s.q.QueryRowContext(ctx, `
			SELECT l.id, l.created_at, l.expires_at, l.sent_at, l.used_at, l.revoked_at,
				u.id, u.user_key, u.username, u.realname, u.email, u.status, u.failed_attempts
			FROM enrollment_links l JOIN users u ON u.id = l.user_id
			WHERE l.token_hash = ?`, hash).Scan(
			&l.ID, &created, &expires, &sent, &used, &revoked,
			&u.ID, &u.Key, &u.Username, &u.RealName, &u.Email, &u.Status, &u.FailedAttempts)
	} else {
		err = s.q.QueryRowContext(ctx, `
			SELECT l.id, l.user_id, l.created_at, l.expires_at, l.sent_at, l.used_at, l.revoked_at
			FROM enrollment_links l `+s.d.indexedBy("enrollment_links_token_covering")+`
			WHERE l.token_hash = ?`, hash).Scan(&l.ID, &u.ID, &created, &expires, &sent, &used, &revoked)
		if err == nil {
			if cached, ok := s.cachedUser(ctx, u.ID); ok {
				// The login cache forgets a user at any change to their
				// status or identity, as for a login.
				u = cached
			} else {
				// A user deleted in between took the link with them (ON
				// DELETE CASCADE): ErrNotFound, as for an unknown link.
				err = s.q.QueryRowContext(ctx, `
					SELECT user_key, username, realname, email, status, failed_attempts FROM users WHERE id = ?`, u.ID).Scan(
					&u.Key, &u.Username, &u.RealName, &u.Email, &u.Status, &u.FailedAttempts)
			}
		}
	}
	l.UserID = u.ID
	l.CreatedAt, l.ExpiresAt = fromUnix(created), fromUnix(expires)
	l.SentAt, l.UsedAt, l.RevokedAt = fromNullUnix(sent), fromNullUnix(used), fromNullUnix(revoked)
	return l, u, wrap("enrollment link and user", err)
}

func (s queries) EnrollmentLinkByID(ctx context.Context, id int64) (store.EnrollmentLink, error) {
	l, err := scanLink(s.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM enrollment_links WHERE id = ?`, id))
	return l, wrap("enrollment link by id", err)
}

func (s queries) LatestEnrollmentLink(ctx context.Context, userID int64) (store.EnrollmentLink, error) {
	l, err := scanLink(s.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM enrollment_links WHERE user_id = ? ORDER BY id DESC LIMIT 1`, userID))
	return l, wrap("latest enrollment link", err)
}

func (s queries) RevokePendingLinks(ctx context.Context, userID int64, at time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE enrollment_links SET revoked_at = ?
		WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, unix(at), userID, unix(at))
	if err != nil {
		return 0, wrap("revoke pending links", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("revoke pending links", err)
}

func (s queries) MarkLinkUsed(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		UPDATE enrollment_links SET used_at = ?
		WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, unix(at), id, unix(at))
	if err != nil {
		return false, wrap("mark link used", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("mark link used", err)
}
