package store

import (
	"context"
	"time"
)

// MaxAliases is how many aliases a user may have (alias1..alias4).
const MaxAliases = 4

// UserNameIndexEntry is one name a user is known by: the username, or one of
// its aliases (Position 1..4).
type UserNameIndexEntry struct {
	UserID   int64
	Name     string
	Position int // 0 for the username
}

// ImportQueries are the reads and writes that imports and bulk changes to
// users need beyond UserQueries and PhoneQueries.
type ImportQueries interface {
	// UserByAlias finds the user holding alias (already normalized).
	UserByAlias(ctx context.Context, alias string) (User, error)
	// UserAliases returns the aliases of a user by position (index 0 is
	// alias1); empty strings where none is set.
	UserAliases(ctx context.Context, userID int64) ([MaxAliases]string, error)
	// SetUserAlias sets (or, with an empty alias, clears) the alias at
	// position 1..4. ErrConflict when another user holds it.
	SetUserAlias(ctx context.Context, userID int64, position int, alias string) error
	// EachUserName calls fn for every username and alias, streaming, so that
	// a large import can index them without loading whole user records.
	EachUserName(ctx context.Context, fn func(UserNameIndexEntry) error) error
	// PhoneByNumber finds a phone by E.164 number and extension.
	PhoneByNumber(ctx context.Context, number, extension string) (Phone, error)
	// EachPhoneNumber calls fn for every phone's id and number (with
	// extension), streaming.
	EachPhoneNumber(ctx context.Context, fn func(id int64, number, extension string) error) error
	// UpdatePhoneDetails writes the type, platform and name of a phone.
	UpdatePhoneDetails(ctx context.Context, p Phone) error
	// InsertAudits writes many audit entries with few statements, for
	// imports. Run it in the transaction of the change.
	InsertAudits(ctx context.Context, entries []AuditEntry) error
	// AddUsersToGroups adds memberships (pairs[i] = {userID, groupID}),
	// keeping those that exist.
	AddUsersToGroups(ctx context.Context, pairs [][2]int64) error
	// HardwareTokenBySerial returns the id of the hardware token with serial
	// (of any type), or ErrNotFound.
	HardwareTokenBySerial(ctx context.Context, serial string) (int64, error)
	// AssignHardwareToken gives a hardware token to a user.
	AssignHardwareToken(ctx context.Context, tokenID, userID int64) error
}

// ActivationCode is a bearer code that activates one phone's authenticator
// app from a link opened on the phone. Only its hash is stored.
type ActivationCode struct {
	ID        int64
	PhoneID   int64
	UserID    int64 // the user it was issued for (the account in the app)
	CodeHash  []byte
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	SentAt    *time.Time
	SentVia   string // "sms", "email", or "" when only shown to the admin
	UsedAt    *time.Time
}

// UnactivatedDevice is a user's mobile or tablet that could be activated but
// is not yet, for the "send activation links" list.
type UnactivatedDevice struct {
	User  User
	Phone Phone
	// PendingUntil is the expiry of an activation link already sent and
	// still valid; nil when none.
	PendingUntil *time.Time
}

// ActivationQueries reads and writes activation codes.
type ActivationQueries interface {
	// CreateActivationCode inserts c and sets its ID.
	CreateActivationCode(ctx context.Context, c *ActivationCode) error
	ActivationCodeByHash(ctx context.Context, hash []byte) (ActivationCode, error)
	// LiveSentActivationCode returns the newest activation code of the phone
	// that was sent, is unused and has not expired at now; ErrNotFound when
	// there is none.
	LiveSentActivationCode(ctx context.Context, phoneID int64, now time.Time) (ActivationCode, error)
	// DeleteUnusedActivationCodes removes the phone's unused codes (they stop
	// working) and returns how many.
	DeleteUnusedActivationCodes(ctx context.Context, phoneID int64) (int64, error)
	// MarkActivationCodeSent records how a code was sent.
	MarkActivationCodeSent(ctx context.Context, id int64, via string, at time.Time) error
	// MarkActivationCodeUsed ends a code. It reports false when the code was
	// already used.
	MarkActivationCodeUsed(ctx context.Context, id int64, at time.Time) (bool, error)
	// UnactivatedDevices lists the mobiles with a known platform and the
	// tablets that are not activated, with their users, by username.
	UnactivatedDevices(ctx context.Context, now time.Time, limit int) ([]UnactivatedDevice, error)
	// UsersOfPhone lists the users a phone is attached to.
	UsersOfPhone(ctx context.Context, phoneID int64) ([]User, error)
}

// ImportPlan is the plan of a checked import file: waiting for an admin's
// apply while TokenHash is set, then taken by the import's job (JobID). Its
// rows are in chunks (ImportPlanQueries.AddImportPlanChunk).
type ImportPlan struct {
	ID int64
	// TokenHash is the hash of the plan's id, a bearer token the admin's
	// session carries; nil once a job took the plan.
	TokenHash []byte
	JobID     int64
	// Summary is the check's summary, as the importer encodes it.
	Summary   []byte
	CreatedAt time.Time
}

// ImportPlanQueries keep the plans of checked import files, so that any
// instance can apply a plan another checked and any job runner can run the
// import.
type ImportPlanQueries interface {
	// CreateImportPlan inserts p and sets its ID.
	CreateImportPlan(ctx context.Context, p *ImportPlan) error
	// CompleteImportPlan sets the token hash and summary of a plan whose
	// chunks are all in: from then on it waits for an apply.
	CompleteImportPlan(ctx context.Context, planID int64, tokenHash, summary []byte) error
	// AddImportPlanChunk stores chunk seq (0, 1, ...) of a plan's rows.
	AddImportPlanChunk(ctx context.Context, planID int64, seq int, data []byte) error
	// WaitingImportPlan returns the waiting plan whose token hashes to
	// tokenHash; ErrNotFound when there is none.
	WaitingImportPlan(ctx context.Context, tokenHash []byte) (ImportPlan, error)
	// TakeImportPlan gives the waiting plan whose token hashes to tokenHash
	// to job jobID and clears its hash, so that no second apply finds it.
	// ErrNotFound when no plan waits under that hash.
	TakeImportPlan(ctx context.Context, tokenHash []byte, jobID int64) (ImportPlan, error)
	// ImportPlanChunk returns chunk seq of a plan's rows; ErrNotFound when
	// there is no such chunk (the plan was removed).
	ImportPlanChunk(ctx context.Context, planID int64, seq int) ([]byte, error)
	// DeleteImportPlan removes a plan with its chunks.
	DeleteImportPlan(ctx context.Context, planID int64) error
	// DeleteWaitingImportPlan removes the waiting plan whose token hashes
	// to tokenHash, with its chunks, if there is one.
	DeleteWaitingImportPlan(ctx context.Context, tokenHash []byte) error
	// DeleteStaleImportPlans removes, with their chunks, the plans created
	// before before that no running job reads: those still waiting, and
	// those of jobs that ended without removing them. It returns how many.
	DeleteStaleImportPlans(ctx context.Context, before time.Time) (int64, error)
}
