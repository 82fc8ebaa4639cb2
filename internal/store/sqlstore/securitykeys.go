package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"enrollportal/internal/store"
)

func (s queries) CreateSecurityKey(ctx context.Context, k *store.SecurityKey) error {
	err := s.q.QueryRowContext(ctx, `
		INSERT INTO webauthn_credentials (credential_key, user_id, credential_id, public_key, attestation_type, aaguid,
			sign_count, transports, backup_eligible, backup_state, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		k.Key, k.UserID, k.CredentialID, k.PublicKey, k.AttestationType, k.AAGUID, k.SignCount,
		strings.Join(k.Transports, ","), k.BackupEligible, k.BackupState, k.Name, unix(k.CreatedAt)).Scan(&k.ID)
	return wrap("create security key", err)
}

func (s queries) SecurityKeysByUser(ctx context.Context, userID int64) ([]store.SecurityKey, error) {
	rows, err := s.q.QueryContext(ctx, `
		SELECT id, credential_key, user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
			transports, backup_eligible, backup_state, name, created_at, last_used_at
		FROM webauthn_credentials WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, wrap("security keys by user", err)
	}
	defer rows.Close()
	var out []store.SecurityKey
	for rows.Next() {
		var k store.SecurityKey
		var transports string
		var created int64
		var lastUsed sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Key, &k.UserID, &k.CredentialID, &k.PublicKey, &k.AttestationType, &k.AAGUID,
			&k.SignCount, &transports, &k.BackupEligible, &k.BackupState, &k.Name, &created, &lastUsed); err != nil {
			return nil, wrap("security keys by user", err)
		}
		if transports != "" {
			k.Transports = strings.Split(transports, ",")
		}
		k.CreatedAt, k.LastUsedAt = fromUnix(created), fromNullUnix(lastUsed)
		out = append(out, k)
	}
	return out, wrap("security keys by user", rows.Err())
}

func (s queries) RecordSecurityKeyUse(ctx context.Context, id int64, signCount uint32, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ? WHERE id = ?`,
		signCount, unix(at), id)
	return wrap("record security key use", err)
}
