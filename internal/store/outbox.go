package store

import (
	"context"
	"time"
)

// Message channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message statuses.
const (
	MessagePending = "pending"
	MessageSending = "sending"
	MessageSent    = "sent"
	MessageFailed  = "failed" // gave up after the last retry
)

// Message is one email or SMS in the outbox. It is written in the same
// transaction as the change that caused it and delivered later by a worker.
type Message struct {
	ID int64
	// IntentKey names the intent ("enroll-link:42:sent:1"); writing the same
	// intent twice keeps one message, so nothing is ever sent twice for it.
	IntentKey string
	Channel   string
	// Priority orders delivery: higher first (PriorityLogin before
	// PriorityNormal), then oldest first.
	Priority      int
	Recipient     string
	Subject       string
	BodyText      string
	BodyHTML      string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
	// ClaimedUntil is the end of the worker's lease while Status is sending.
	ClaimedUntil *time.Time
	// ClaimedBy is the start id of the process holding the claim, so that a
	// later start can take back the claims of a dead process at once.
	ClaimedBy string
}

// OutboxQueries writes messages to the outbox.
type OutboxQueries interface {
	// EnqueueMessage inserts m (status pending, due now) and sets its ID. It
	// reports false, and changes nothing, when a message with the same
	// IntentKey exists.
	EnqueueMessage(ctx context.Context, m *Message) (bool, error)
}

// OutboxWorkerQueries are the delivery worker's steps. A claim is a lease:
// the claimed rows are 'sending' until ClaimedUntil, and a worker that dies
// holding them loses them when the lease ends, so another worker retries
// them. ClaimedUntil doubles as the claim's fencing token: a worker whose
// lease ran out (and whose rows were claimed again) can no longer mark them.
type OutboxWorkerQueries interface {
	// ClaimMessages leases up to limit messages of the given channels that are
	// due (pending with NextAttemptAt <= now, or sending with a lease that
	// ended at or before now) for the process by (its start id), oldest
	// first. Each claim counts one attempt.
	ClaimMessages(ctx context.Context, by string, channels []string, now, until time.Time, limit int) ([]Message, error)
	// MarkMessageSent records the delivery of a claimed message and replaces
	// its bodies with the given ones (the worker removes the links, which are
	// bearer secrets, once they are delivered). It reports false when the
	// claim (id, claimedUntil) is no longer held.
	MarkMessageSent(ctx context.Context, id int64, claimedUntil, at time.Time, bodyText, bodyHTML string) (bool, error)
	// MarkMessageRetry puts a claimed message back to pending, due at next,
	// with the error of the failed attempt; with failed it gives up instead
	// (status failed). It reports false when the claim is no longer held.
	MarkMessageRetry(ctx context.Context, id int64, claimedUntil, next time.Time, lastError string, failed bool) (bool, error)
	// ReopenMessage undoes MarkMessageSent for a message the other side
	// refused after its delivery was recorded (the worker records it as
	// soon as it hands the message over, before the answer): pending again,
	// due at next, with the bodies as queued and the refusal as its error;
	// with failed it gives up instead. It reports false when the message is
	// not marked sent.
	ReopenMessage(ctx context.Context, id int64, next time.Time, bodyText, bodyHTML, lastError string, failed bool) (bool, error)
	// ReleaseMessage hands back a claimed message that was not tried (the
	// worker is stopping, or an earlier message to the same recipient must go
	// first): pending again, due at due, the claim's attempt not counted.
	ReleaseMessage(ctx context.Context, id int64, claimedUntil, due time.Time) (bool, error)
}

// MessageFilter selects messages for the admin's outbox page.
type MessageFilter struct {
	Status string // one of the statuses, or "" for all
	Limit  int
	Offset int
}

// OutboxAdminQueries let admins see and nudge the outbox.
type OutboxAdminQueries interface {
	// ListMessages returns one page of messages, newest first, and how many
	// match the filter in all.
	ListMessages(ctx context.Context, f MessageFilter) ([]Message, int, error)
	MessageByID(ctx context.Context, id int64) (Message, error)
	// CountMessagesByStatus counts the outbox by status.
	CountMessagesByStatus(ctx context.Context) (map[string]int, error)
	// RetryMessageNow makes a pending or failed message due at now, with a
	// fresh count of attempts. ErrNotFound when there is no such message or
	// it is sent or being sent.
	RetryMessageNow(ctx context.Context, id int64, now time.Time) error
}
