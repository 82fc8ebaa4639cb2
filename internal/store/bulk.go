package store

import "context"

// BulkQueries write many rows per statement, for loads where one statement
// a row is too slow (imports, directory sync, benchmarks). Run them in a
// transaction; they write no audit records of their own.
type BulkQueries interface {
	// CreateUsers inserts users and sets their IDs. ErrConflict when a
	// username is taken.
	CreateUsers(ctx context.Context, users []*User) error
	// CreatePhones inserts phones and sets their IDs.
	CreatePhones(ctx context.Context, phones []*Phone) error
	// AttachPhones links each phone to its user (pairs[i] = {userID, phoneID}).
	AttachPhones(ctx context.Context, pairs [][2]int64) error
}
