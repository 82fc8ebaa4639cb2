package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"enrollportal/internal/store"
)

const promptColumns = `id, token_hash, txid, application_id, username, redirect_uri, state, nonce, use_duo_code,
	client_ip, claimed, user_id, decision, reason, message, enroll_methods, auth_methods, outcome, key_session,
	created_at, expires_at`

// Method lists of a transaction are never "inherited": stored as plain
// comma-separated text.
func joinMethods(v []string) string { return strings.Join(v, ",") }

// splitMethods reads a list joinMethods wrote. An empty list stays empty
// (a policy that accepts no method), never nil, which readers of a login's
// methods take for "every method".
func splitMethods(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

func (s queries) CreatePromptTransaction(ctx context.Context, t *store.PromptTransaction) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO prompt_transactions (token_hash, txid, application_id, username, redirect_uri, state, nonce,
			use_duo_code, client_ip, claimed, user_id, decision, reason, message, enroll_methods, auth_methods,
			outcome, key_session, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.TokenHash, t.TxID, t.ApplicationID, t.Username, t.RedirectURI, t.State, t.Nonce, t.UseDuoCode,
		t.ClientIP, t.Claimed, nullInt(t.UserID), t.Decision, t.Reason, t.Message, joinMethods(t.EnrollMethods),
		joinMethods(t.AuthMethods), t.Outcome, t.KeySession, unix(t.CreatedAt), unix(t.ExpiresAt)).Scan(&t.ID)
	return wrap("create prompt transaction", err)
}

func (s queries) PromptTransactionByHash(ctx context.Context, hash []byte) (store.PromptTransaction, error) {
	var t store.PromptTransaction
	var userID sql.NullInt64
	var enrollMethods, authMethods string
	var created, expires int64
	err := s.q.QueryRowContext(ctx, `SELECT `+promptColumns+` FROM prompt_transactions WHERE token_hash = ?`, hash).
		Scan(&t.ID, &t.TokenHash, &t.TxID, &t.ApplicationID, &t.Username, &t.RedirectURI, &t.State, &t.Nonce,
			&t.UseDuoCode, &t.ClientIP, &t.Claimed, &userID, &t.Decision, &t.Reason, &t.Message, &enrollMethods,
			&authMethods, &t.Outcome, &t.KeySession, &created, &expires)
	if err != nil {
		return t, wrap("prompt transaction", err)
	}
	if userID.Valid {
		t.UserID = &userID.Int64
	}
	t.EnrollMethods, t.AuthMethods = splitMethods(enrollMethods), splitMethods(authMethods)
	t.CreatedAt, t.ExpiresAt = fromUnix(created), fromUnix(expires)
	return t, nil
}

func (s queries) ClaimPromptTransaction(ctx context.Context, id int64) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE prompt_transactions SET claimed = 1 WHERE id = ? AND claimed = 0`, id)
	if err != nil {
		return false, wrap("claim prompt transaction", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("claim prompt transaction", err)
}

func (s queries) UpdatePromptTransaction(ctx context.Context, t store.PromptTransaction) error {
	res, err := s.q.ExecContext(ctx, `
		UPDATE prompt_transactions SET user_id = ?, decision = ?, reason = ?, message = ?, enroll_methods = ?,
			auth_methods = ?, outcome = ?, key_session = ?
		WHERE id = ? AND outcome = ''`,
		nullInt(t.UserID), t.Decision, t.Reason, t.Message, joinMethods(t.EnrollMethods), joinMethods(t.AuthMethods),
		t.Outcome, t.KeySession, t.ID)
	if err != nil {
		return wrap("update prompt transaction", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.q.QueryRowContext(ctx, `SELECT 1 FROM prompt_transactions WHERE id = ?`, t.ID).Scan(&one); err != nil {
			return wrap("update prompt transaction", err)
		}
		return fmt.Errorf("store: update prompt transaction: finished already: %w", store.ErrConflict)
	}
	return nil
}

func (s queries) DeletePromptTransaction(ctx context.Context, id int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM prompt_transactions WHERE id = ?`, id)
	if err != nil {
		return wrap("delete prompt transaction", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s queries) CreateOAuthCode(ctx context.Context, c *store.OAuthCode) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO oauth_codes (code_hash, application_id, redirect_uri, username, nonce, result, outcome, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.CodeHash, c.ApplicationID, c.RedirectURI, c.Username, c.Nonce, c.Result, c.Outcome,
		unix(c.CreatedAt), unix(c.ExpiresAt)).Scan(&c.ID)
	return wrap("create oauth code", err)
}

func (s queries) OAuthCodeByHash(ctx context.Context, hash []byte) (store.OAuthCode, error) {
	var c store.OAuthCode
	var created, expires int64
	var used sql.NullInt64
	err := s.q.QueryRowContext(ctx, `
		SELECT id, code_hash, application_id, redirect_uri, username, nonce, result, outcome, created_at, expires_at, used_at
		FROM oauth_codes WHERE code_hash = ?`, hash).
		Scan(&c.ID, &c.CodeHash, &c.ApplicationID, &c.RedirectURI, &c.Username, &c.Nonce, &c.Result, &c.Outcome,
			&created, &expires, &used)
	if err != nil {
		return c, wrap("oauth code", err)
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromUnix(created), fromUnix(expires), fromNullUnix(used)
	return c, nil
}

func (s queries) UseOAuthCode(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`, unix(at), id)
	if err != nil {
		return false, wrap("use oauth code", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("use oauth code", err)
}

func (s queries) RecordAssertion(ctx context.Context, applicationID int64, jti string, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_assertions (application_id, jti, expires_at) VALUES (?, ?, ?)`,
		applicationID, jti, unix(expires))
	return wrap("record assertion", err)
}

func (s queries) DeleteExpiredPromptData(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM prompt_transactions WHERE expires_at <= ?`,
		`DELETE FROM oauth_codes WHERE expires_at <= ?`,
		`DELETE FROM oauth_assertions WHERE expires_at <= ?`,
	} {
		res, err := s.q.ExecContext(ctx, q, unix(before))
		if err != nil {
			return total, wrap("delete expired prompt data", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
