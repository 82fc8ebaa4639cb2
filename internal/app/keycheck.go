package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store/sqlstore"
)

// loadKey returns the at-rest key for the database db at dbPath, and
// whether it created the key file. It refuses to go on, rather than serve
// with secrets it cannot open, when:
//
//   - the key file is missing and the database is in use (users, admins,
//     applications or phones, or a recorded check value): a new key would
//     leave every stored authenticator secret unreadable;
//   - the key's check value differs from the one recorded in the database;
//   - the database has no check value yet (it was made by an earlier
//     portal) and the key does not open the sealed values it holds.
//
// A key is created only beside a new, empty database. The check value is
// recorded on the first start that has a key which fits.
func loadKey(ctx context.Context, db *sqlstore.DB, path, dbPath string, c clock.Clock) (key []byte, created bool, err error) {
	recorded, err := db.KeyCheck(ctx)
	if err != nil {
		return nil, false, err
	}
	key, err = secret.LoadKeyFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		inUse, err := db.HoldsData(ctx)
		if err != nil {
			return nil, false, err
		}
		if inUse || recorded != "" {
			return nil, false, fmt.Errorf("the at-rest key file %s is missing, but the database %s holds data sealed with a key. "+
				"Restore the key file from the backup of this database (set PORTAL_SECRET_KEY_FILE if it lives elsewhere). "+
				"The portal does not create a new key beside a database in use: the stored authenticator and application secrets would no longer open", path, dbPath)
		}
		if key, err = secret.CreateKeyFile(path); err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, err
	case recorded != "":
		if !secret.Equal(secret.CheckValue(key), recorded) {
			return nil, false, fmt.Errorf("the at-rest key file %s is not the key of the database %s (the key check value recorded in the database differs). "+
				"Restore the key file that belongs to this database; with another key every stored authenticator and application secret fails to open", path, dbPath)
		}
		return key, false, nil
	default:
		if err := opensSealedValues(ctx, db, key, path, dbPath); err != nil {
			return nil, false, err
		}
	}
	if err := db.RecordKeyCheck(ctx, secret.CheckValue(key), c.Now()); err != nil {
		return nil, false, err
	}
	return key, created, nil
}

// opensSealedValues tests a key against a database that has no check value
// yet, on one sealed value of each kind it holds.
func opensSealedValues(ctx context.Context, db *sqlstore.DB, key []byte, path, dbPath string) error {
	box, err := secret.NewBox(key)
	if err != nil {
		return err
	}
	samples, err := db.SealedSamples(ctx)
	if err != nil {
		return err
	}
	for _, s := range samples {
		if _, err := box.Open(s.Sealed, s.AdditionalData); err != nil {
			return fmt.Errorf("the at-rest key file %s does not open the secrets stored in the database %s (%s). "+
				"Restore the key file that belongs to this database", path, dbPath, s.What)
		}
	}
	return nil
}
