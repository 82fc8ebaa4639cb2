package store

import (
	"context"
	"time"
)

// Directory is an LDAP directory (OpenLDAP or Active Directory) whose users
// and groups the portal syncs. Config is the directory package's settings
// as JSON; BindPassword is sealed.
type Directory struct {
	ID           int64
	Name         string
	Kind         string // "ldap" (OpenLDAP) or "active-directory"
	Config       string
	BindPassword []byte
	SyncCursor   string // newest modifyTimestamp read; "" before the first run
	LastFullAt   *time.Time
	LastSyncAt   *time.Time
	LastResult   string
	CreatedAt    time.Time
}

// DirectoryUser is a user a directory created, with what a sync compares.
type DirectoryUser struct {
	User           User
	StableID       string
	TrashedAt      *time.Time
	DisabledBySync bool
	// EntryStamp and Drifted are as in DirectoryUserStamp.
	EntryStamp string
	Drifted    bool
}

// DirectoryUserStamp is what the last run that wrote or compared a
// directory user knew of it: the entry's change stamp (Stamp, "" when
// never recorded), whether the user is in the trash, and whether the user
// was changed in the portal since (its updated_at moved).
type DirectoryUserStamp struct {
	UserID    int64
	StableID  string
	Stamp     string
	TrashedAt *time.Time
	Drifted   bool
}

// DirectoryGroup is a group a directory created.
type DirectoryGroup struct {
	GroupID  int64
	StableID string
	Name     string
}

// DirectoryRun is one sync or preview of a directory.
type DirectoryRun struct {
	ID          int64
	DirectoryID int64
	Kind        string // "full" or "incremental"
	DryRun      bool
	Status      string // running, succeeded, failed, needs-confirmation
	Counts      string // JSON object
	Report      string
	Error       string
	StartedAt   time.Time
	FinishedAt  *time.Time
}

// DirectoryQueries reads and writes directories, the users and groups they
// own, their leases and their runs.
type DirectoryQueries interface {
	// CreateDirectory inserts d and sets its ID. ErrConflict when the name
	// is taken.
	CreateDirectory(ctx context.Context, d *Directory) error
	DirectoryByName(ctx context.Context, name string) (Directory, error)
	// UpdateDirectory writes d's kind, settings, sealed bind password and
	// sync cursor (by ID). ErrNotFound when it no longer exists.
	UpdateDirectory(ctx context.Context, d Directory) error
	// DeleteDirectory deletes a directory with its links to users and
	// groups, its lease and its runs; the users and groups stay.
	DeleteDirectory(ctx context.Context, id int64) error
	Directories(ctx context.Context) ([]Directory, error)
	// SetDirectorySynced records the end of a run: its time and result,
	// and, unless cursor is empty, the new cursor; fullAt when the run was
	// a full comparison.
	SetDirectorySynced(ctx context.Context, id int64, at time.Time, result, cursor string, fullAt *time.Time) error
	// TakeDirectoryLease gives the directory's lease to holder until
	// until, if nobody else holds it at now; false when someone does.
	TakeDirectoryLease(ctx context.Context, directoryID int64, holder string, now, until time.Time) (bool, error)
	ReleaseDirectoryLease(ctx context.Context, directoryID int64, holder string) error
	// DirectoryUsers lists the users the directory created, trashed or not.
	DirectoryUsers(ctx context.Context, directoryID int64) ([]DirectoryUser, error)
	// DirectoryUsersByStableID lists the directory's users (trashed or
	// not) with these stable ids: the entries an incremental run read.
	DirectoryUsersByStableID(ctx context.Context, directoryID int64, stableIDs []string) ([]DirectoryUser, error)
	// CountDirectoryUsers counts the directory's users not in its trash.
	CountDirectoryUsers(ctx context.Context, directoryID int64) (int, error)
	// DirectoryUserPhones lists the phone numbers ("+E164#ext") of the
	// directory's users, by user id.
	DirectoryUserPhones(ctx context.Context, directoryID int64) (map[int64][]string, error)
	// DirectoryMemberships lists the memberships ({userID, groupID}) in the
	// directory's groups.
	DirectoryMemberships(ctx context.Context, directoryID int64) ([][2]int64, error)
	// LinkDirectoryUser records that the directory owns a user.
	LinkDirectoryUser(ctx context.Context, directoryID int64, stableID string, userID int64) error
	// DirectoryUserStamps lists every user of the directory with the
	// entry stamp last recorded for it: a narrow read for the full
	// comparison, which reads whole users only where stamps moved.
	DirectoryUserStamps(ctx context.Context, directoryID int64) ([]DirectoryUserStamp, error)
	// DirectoryHasUnstampedUsers reports whether a user of the directory
	// has no entry stamp recorded (linked by an admin, or synced before
	// stamps were): the next run compares every entry.
	DirectoryHasUnstampedUsers(ctx context.Context, directoryID int64) (bool, error)
	// SetDirectoryUserStamp records the entry's stamp for a user and the
	// user's updated_at as it is now (call it after writing the user).
	SetDirectoryUserStamp(ctx context.Context, userID int64, stamp string) error
	// LinkDirectoryUsers records many at once (stableIDs[i] owns
	// userIDs[i]), a multi-row INSERT per 500.
	// stamps[i] is the entry stamp recorded with it.
	LinkDirectoryUsers(ctx context.Context, directoryID int64, stableIDs []string, userIDs []int64, stamps []string) error
	// SetDirectoryUserState writes the trash time and the disabled-by-sync
	// mark of a directory's user.
	SetDirectoryUserState(ctx context.Context, userID int64, trashedAt *time.Time, disabledBySync bool) error
	DirectoryGroups(ctx context.Context, directoryID int64) ([]DirectoryGroup, error)
	LinkDirectoryGroup(ctx context.Context, directoryID int64, stableID string, groupID int64) error
	// RemoveUsersFromGroups removes memberships (pairs[i] = {userID,
	// groupID}).
	RemoveUsersFromGroups(ctx context.Context, pairs [][2]int64) error
	// CreateDirectoryRun inserts r and sets its ID.
	CreateDirectoryRun(ctx context.Context, r *DirectoryRun) error
	// FinishDirectoryRun writes the outcome of a run.
	FinishDirectoryRun(ctx context.Context, r DirectoryRun) error
	// DirectoryRuns lists the newest runs of a directory first.
	DirectoryRuns(ctx context.Context, directoryID int64, limit int) ([]DirectoryRun, error)
}
