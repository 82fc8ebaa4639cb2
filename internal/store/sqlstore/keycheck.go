package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// KeyCheck returns the recorded check value of the at-rest key, "" when none
// is recorded yet.
func (d *DB) KeyCheck(ctx context.Context) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, wrap("key check", err)
}

// RecordKeyCheck records the check value of the at-rest key, once: a value
// already recorded is kept.
func (d *DB) RecordKeyCheck(ctx context.Context, value string, now time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO key_check (id, value, recorded_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING`, value, now.Unix())
	return wrap("record key check", err)
}

// HoldsData tells whether the database holds anything worth a key: users,
// admins, applications or phones. A database without them is new.
func (d *DB) HoldsData(ctx context.Context) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT CASE WHEN
		EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM admins) OR
		EXISTS (SELECT 1 FROM applications) OR EXISTS (SELECT 1 FROM phones) THEN 1 ELSE 0 END`).Scan(&n)
	return n != 0, wrap("holds data", err)
}

// SealedSample is one value sealed with the at-rest key, with the additional
// data it was sealed with.
type SealedSample struct {
	What           string // for messages: "phone DP...", "application DI..."
	Sealed         []byte
	AdditionalData []byte
}

// SealedSamples returns a few sealed values (one of each kind that exists),
// to test a key against a database that has no check value yet. The
// additional data follow the sealing code: "phone:"+phone_key in enroll,
// "admin:"+admin_key in admin, "application:"+app_key in apps.
func (d *DB) SealedSamples(ctx context.Context) ([]SealedSample, error) {
	queries := []struct{ kind, aad, query string }{
		{"phone", "phone:", `SELECT phone_key, totp_secret FROM phones WHERE totp_secret IS NOT NULL LIMIT 1`},
		{"admin", "admin:", `SELECT admin_key, totp_secret FROM admins WHERE totp_secret IS NOT NULL LIMIT 1`},
		{"application", "application:", `SELECT app_key, client_secret FROM applications LIMIT 1`},
	}
	var out []SealedSample
	for _, q := range queries {
		var key string
		var sealed []byte
		err := d.db.QueryRowContext(ctx, q.query).Scan(&key, &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, wrap("sealed samples", err)
		}
		out = append(out, SealedSample{What: q.kind + " " + key, Sealed: sealed, AdditionalData: []byte(q.aad + key)})
	}
	return out, nil
}
