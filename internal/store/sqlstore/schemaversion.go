package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// AppliedSchemaVersions lists the migration versions goose recorded as
// applied in db (goose's own version 0 left out), in order.
func AppliedSchemaVersions(ctx context.Context, db *sql.DB) ([]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT version_id FROM goose_db_version WHERE is_applied AND version_id > 0 ORDER BY version_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SchemaVersionError refuses a database that has applied a migration this
// portal does not have (known: the versions of its migrations), wrapping
// newer: one beyond the newest it knows (a newer portal), or one between
// its own (a build with a migration this one lacks). Either way the
// database holds a schema this binary was not written for, which would
// fail later and less clearly. It is nil when every applied version is
// known.
func SchemaVersionError(newer error, applied, known []int64) error {
	newest := int64(0)
	for _, v := range known {
		newest = max(newest, v)
	}
	var unknown []int64
	for _, v := range applied {
		if !slices.Contains(known, v) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	const fix = "Run the portal version that last used this database, or restore a backup taken before the upgrade"
	if last := unknown[len(unknown)-1]; last > newest {
		return fmt.Errorf("%w: the database is at schema version %d, and this portal knows schema versions up to %d. %s",
			newer, last, newest, fix)
	}
	return fmt.Errorf("%w: the database has schema version %d, which this portal does not have (this portal knows schema versions up to %d, but not that one). %s",
		newer, unknown[0], newest, fix)
}
