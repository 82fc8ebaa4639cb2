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
	IntentKey     string
	Channel       string
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
}

// OutboxQueries writes messages to the outbox.
type OutboxQueries interface {
	// EnqueueMessage inserts m (status pending, due now) and sets its ID. It
	// reports false, and changes nothing, when a message with the same
	// IntentKey exists.
	EnqueueMessage(ctx context.Context, m *Message) (bool, error)
}
