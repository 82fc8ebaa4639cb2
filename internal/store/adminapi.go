package store

import "context"

// APIUser is a user as the Admin API answers it: the record with its
// aliases and associations. Whether the user is enrolled is decided from
// the factors here by policy.Factors, the one definition.
type APIUser struct {
	User
	// Aliases are alias1..alias4, "" where unset.
	Aliases [4]string
	Groups  []Group
	Phones  []Phone
	Tokens  []HardwareToken
	Keys    []SecurityKey
}

// APIUserFilter selects users for the Admin API, in id order (the order
// they were created, so that offset paging is stable while users are
// added). Empty lists and strings do not filter.
type APIUserFilter struct {
	Username  string
	Email     string
	Usernames []string
	Keys      []string
	Offset    int
	Limit     int
}

// APIPhone is a phone as the Admin API answers it, with its users.
type APIPhone struct {
	Phone
	Predelay, Postdelay *string
	Users               []User
}

// APIPhoneFilter selects phones in id order. Empty strings do not filter,
// except Extension, which filters whenever Number does.
type APIPhoneFilter struct {
	Number    string
	Extension *string
	Key       string
	Offset    int
	Limit     int
}

// AdminAPIQueries are the reads and writes of the Admin API that the other
// interfaces do not have.
type AdminAPIQueries interface {
	// APIUsers returns a page of users with their associations and how
	// many users match f in all; it stays fast at 100,000 users.
	APIUsers(ctx context.Context, f APIUserFilter) ([]APIUser, int, error)
	// SetUserAliases replaces the user's aliases. ErrConflict when an
	// alias is another user's.
	SetUserAliases(ctx context.Context, userID int64, aliases [4]string) error
	// UpdateUserProfile writes a user's username, names, email, notes and
	// status (resetting failed attempts when resetFailures). ErrConflict
	// when the username is taken.
	UpdateUserProfile(ctx context.Context, u User, resetFailures bool) error

	// APIPhones returns a page of phones with their users and the count.
	APIPhones(ctx context.Context, f APIPhoneFilter) ([]APIPhone, int, error)
	// UpdateAPIPhone writes a phone's number, extension, name, type,
	// platform and delays.
	UpdateAPIPhone(ctx context.Context, p APIPhone) error
	DeletePhone(ctx context.Context, id int64) error
	DetachPhone(ctx context.Context, userID, phoneID int64) error
	UserPhoneLinked(ctx context.Context, userID, phoneID int64) (bool, error)

	// GroupPage returns groups in name order and their count.
	GroupPage(ctx context.Context, offset, limit int) ([]Group, int, error)
	UpdateGroup(ctx context.Context, g Group) error
	// GroupMembers returns a page of a group's users in id order and
	// their count.
	GroupMembers(ctx context.Context, groupID int64, offset, limit int) ([]User, int, error)
	UserInGroup(ctx context.Context, userID, groupID int64) (bool, error)

	// AuditPage returns a page of the audit entries f selects and their
	// count.
	AuditPage(ctx context.Context, f AuditPageFilter) ([]AuditEntry, int, error)
}

// AuditPageFilter selects audit entries for the Admin API's logs.
type AuditPageFilter struct {
	// ActionPrefix selects actions starting with it ("" for all).
	ActionPrefix string
	// ActorTypes selects entries by these kinds of actor (nil for all).
	ActorTypes []string
	// FromMS and ToMS bound the time in unix milliseconds (To exclusive).
	FromMS, ToMS int64
	// Desc lists the newest first.
	Desc          bool
	Offset, Limit int
}
