package store

import (
	"context"
	"time"
)

// UserCounts are the dashboard's figures.
type UserCounts struct {
	Total int
	// Enrolled is how many users are enrolled under the methods asked for
	// (policy.Factors.EnrolledUnder).
	Enrolled int
	// Pending is how many users hold a pending enrollment link.
	Pending int
	// UnactivatedDevices is how many users have a smartphone or tablet that
	// is not activated yet.
	UnactivatedDevices int
}

// PartiallyEnrolled is how many users exist without being enrolled.
func (c UserCounts) PartiallyEnrolled() int { return c.Total - c.Enrolled }

// UserQuery selects a page of users in username order.
type UserQuery struct {
	// Prefix matches the start of the username, email or real name
	// (case-insensitive); empty for every user.
	Prefix string
	// After is the last username of the previous page (keyset pagination).
	After string
	Limit int
	// Methods are the accepted methods under which UserRow.Enrolled is
	// decided (policy.Factors.EnrolledUnder); nil for any factor.
	Methods []string
}

// UserRow is a user as the users list shows it.
type UserRow struct {
	User
	Enrolled bool
}

// PendingEnrollment is a pending enrollment link with its user.
type PendingEnrollment struct {
	Link EnrollmentLink
	User User
	// Delivery is the outbox status (pending, sending, sent, failed) of the
	// latest email of the link, "" when none was queued; DeliveredAt is
	// when it was sent.
	Delivery    string
	DeliveredAt *time.Time
}

// HardwareToken is an OTP hardware token (its secret is not read here).
type HardwareToken struct {
	ID     int64
	Key    string
	Serial string
	Type   string
	// Step is a TOTP token's step in seconds (HOTP tokens ignore it).
	Step      int
	CreatedAt time.Time
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Actor  string // exact actor (an admin's email, a username)
	Action string // exact action, or a prefix ending in "." ("user.")
	Target string // exact target
	From   time.Time
	To     time.Time // exclusive; zero for no bound
	// BeforeID is the last id of the previous page (keyset pagination).
	BeforeID int64
	Limit    int
}

// UserListQueries are the admin section's figures and list of users.
type UserListQueries interface {
	// CountUserFigures counts the dashboard's figures, with enrolled users
	// decided under methods (nil: holding any factor).
	CountUserFigures(ctx context.Context, now time.Time, methods []string) (UserCounts, error)
	// SearchUsers returns a page of users in username order; it stays fast at
	// 100,000 users (index range scans, keyset paging).
	SearchUsers(ctx context.Context, q UserQuery) ([]UserRow, error)
}

// UserChangeQueries change and remove users (the users service's edits).
type UserChangeQueries interface {
	// UpdateUser writes u's real name, email, notes and status, and sets the
	// count of failed attempts to zero when resetFailures (the rule of when
	// is users.ResetsFailures).
	UpdateUser(ctx context.Context, u User, resetFailures bool) error
	// DeleteUser removes a user with their links, memberships and factors.
	DeleteUser(ctx context.Context, id int64) error
}

// HardwareTokenQueries read the hardware tokens assigned to users.
type HardwareTokenQueries interface {
	HardwareTokensByUser(ctx context.Context, userID int64) ([]HardwareToken, error)
}

// PendingEnrollmentQueries are the reads and writes of pending enrollment
// links as the admin section and resends see them.
type PendingEnrollmentQueries interface {
	// PendingEnrollments lists pending links (neither used, revoked nor
	// expired at now) of users who hold no factor, after the link id
	// afterID, oldest first, with the delivery state of their latest email.
	PendingEnrollments(ctx context.Context, now time.Time, afterID int64, limit int) ([]PendingEnrollment, error)
	// PendingLinkOfUser returns the user's pending link, or ErrNotFound.
	PendingLinkOfUser(ctx context.Context, userID int64, now time.Time) (EnrollmentLink, error)
	// MarkLinkSent notes when a link was last sent.
	MarkLinkSent(ctx context.Context, id int64, at time.Time) error
	// CountMessagesWithIntentPrefix counts outbox messages whose intent key
	// starts with prefix (the sends of one enrollment link).
	CountMessagesWithIntentPrefix(ctx context.Context, prefix string) (int, error)
}

// GroupAdminQueries are the group pages' reads and removal of a group.
type GroupAdminQueries interface {
	GroupByKey(ctx context.Context, key string) (Group, error)
	DeleteGroup(ctx context.Context, id int64) error
	CountGroupMembers(ctx context.Context, groupID int64) (int, error)
}

// AuditSearchQueries search the audit log (the admin section's audit page).
type AuditSearchQueries interface {
	SearchAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
