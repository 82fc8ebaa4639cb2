package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"enrollportal/internal/store"
)

func (s queries) CreateAuthTransaction(ctx context.Context, t *store.AuthTransaction) error {
	var userID sql.NullInt64
	if t.UserID != nil {
		userID = sql.NullInt64{Int64: *t.UserID, Valid: true}
	}
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO auth_transactions (txid, application_id, user_id, result, status, status_msg, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.TxID, t.ApplicationID, userID, t.Result, t.Status, t.StatusMsg, unix(t.CreatedAt), unix(t.ExpiresAt)).Scan(&t.ID)
	return wrap("create auth transaction", err)
}

func (s queries) AuthTransactionByTxID(ctx context.Context, applicationID int64, txid string) (store.AuthTransaction, error) {
	var t store.AuthTransaction
	var appID, userID sql.NullInt64
	var created, expires int64
	err := s.q.QueryRowContext(ctx, `
		SELECT id, txid, application_id, user_id, result, status, status_msg, created_at, expires_at
		FROM auth_transactions WHERE txid = ? AND application_id = ?`, txid, applicationID).
		Scan(&t.ID, &t.TxID, &appID, &userID, &t.Result, &t.Status, &t.StatusMsg, &created, &expires)
	if err != nil {
		return t, wrap("auth transaction", err)
	}
	t.ApplicationID = appID.Int64
	if userID.Valid {
		t.UserID = &userID.Int64
	}
	t.CreatedAt, t.ExpiresAt = fromUnix(created), fromUnix(expires)
	return t, nil
}

func (s queries) DeleteExpiredAuthTransactions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM auth_transactions WHERE expires_at <= ?`, unix(now))
	if err != nil {
		return 0, wrap("delete expired auth transactions", err)
	}
	return res.RowsAffected()
}
