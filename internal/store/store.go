package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the asked-for record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrBusy is returned when the database did not let a write through before
// the caller's deadline: another process holds the write lock, or the wait
// for this process's writers was longer than the caller could give.
var ErrBusy = errors.New("store: the database is busy")

// Busy reports whether err means that the database did not answer before
// the caller's deadline (ErrBusy, or the deadline itself): a reason to
// answer "try again" rather than "something is broken".
func Busy(err error) bool {
	return errors.Is(err, ErrBusy) || errors.Is(err, context.DeadlineExceeded)
}

// lockWaitKey marks a context whose waits for the database's write lock are
// bounded (WithLockWait).
type lockWaitKey struct{}

// WithLockWait bounds each wait of ctx's work for the write lock (behind
// the process's other writers, or another process's lock) to d: a wait
// that lasts longer ends with ErrBusy. Unlike a deadline, time spent
// computing does not count, so an overloaded machine slows a login down
// but a stuck database still answers within d.
func WithLockWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, lockWaitKey{}, d)
}

// LockWait is the bound WithLockWait set on ctx.
func LockWait(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(lockWaitKey{}).(time.Duration)
	return d, ok
}

// deliveryRecordKey marks the context of the write that records a
// delivery (WithDeliveryRecord).
type deliveryRecordKey struct{}

// WithDeliveryRecord marks ctx as the one of the single conditional write
// that records a message's delivery right after the relay accepted it. A
// crash between the acceptance and that write's commit sends the message
// again, so the write should take as little time as is safe. On PostgreSQL
// its WHERE (the claim it holds) decides it alone, so it does not queue
// for the write lock behind other writers, and its commit does not wait
// for the flush to disk: a killed portal does not take a committed
// transaction with it, and a crash of the database server itself could
// lose the record, so that the message is sent again, never lost. SQLite
// has one write lock that every write takes.
func WithDeliveryRecord(ctx context.Context) context.Context {
	return context.WithValue(ctx, deliveryRecordKey{}, true)
}

// DeliveryRecord reports whether ctx is marked by WithDeliveryRecord.
func DeliveryRecord(ctx context.Context) bool {
	v, _ := ctx.Value(deliveryRecordKey{}).(bool)
	return v
}

// ErrConflict is returned when a write would break a uniqueness rule (a
// username or alias taken, a credential already registered).
var ErrConflict = errors.New("store: conflict")

// Queries is every single-step read and write. The same methods run on the
// database directly or inside a transaction.
type Queries interface {
	UserQueries
	PhoneQueries
	SecurityKeyQueries
	FactorQueries
	SMSPasscodeQueries
	BypassCodeQueries
	TokenQueries
	EnrollmentLinkQueries
	ChallengeQueries
	GroupQueries
	ApplicationQueries
	PolicyQueries
	AccessQueries
	OutboxQueries
	OutboxWorkerQueries
	OutboxAdminQueries
	AuditQueries
	SettingQueries
	AdminQueries
	UserListQueries
	UserChangeQueries
	HardwareTokenQueries
	PendingEnrollmentQueries
	GroupAdminQueries
	AuditSearchQueries
	AuthTransactionQueries
	BulkQueries
	TemplateQueries
	ImportQueries
	ImportPlanQueries
	ActivationQueries
	PromptQueries
	JobQueries
	InstanceQueries
	LeaseQueries
	AdminAPIQueries
	DirectoryQueries
}

// Transactor runs a change in one transaction (Store.InTx); a service that
// writes takes it beside the queries it reads.
type Transactor interface {
	InTx(ctx context.Context, fn func(Queries) error) error
}

// GroupTransactor runs a short change in a transaction it may share with
// others (Store.InGroupTx).
type GroupTransactor interface {
	InGroupTx(ctx context.Context, fn func(Queries) error) error
}

// Store is the portal's database.
type Store interface {
	Queries
	// InTx runs fn in one transaction: committed when fn returns nil, rolled
	// back otherwise. fn must use only the Queries it is given.
	InTx(ctx context.Context, fn func(Queries) error) error
	// InGroupTx runs fn like InTx, but in a transaction it may share with
	// the fns of other callers at about the same time, so that many short
	// writes (the audit records of logins) cost one commit. fn's changes
	// are rolled back alone when it returns an error; InGroupTx returns
	// once they are committed. fn must be short and independent of the
	// others. When ctx ends before fn has started, fn never runs and the
	// error wraps ErrBusy.
	InGroupTx(ctx context.Context, fn func(Queries) error) error
	// Ping tells whether the database answers and accepts writes (for
	// /readyz).
	Ping(ctx context.Context) error
	Close() error
}
