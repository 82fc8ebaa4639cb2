package notify

import (
	"context"
	"errors"

	"enrollportal/internal/store"
)

// transport delivers the messages of one channel.
type transport interface {
	channel() string
	// describe names where messages go, without secrets, for the log.
	describe() string
	// open starts a session, e.g. one SMTP connection that a sender reuses
	// for its share of a batch.
	open(ctx context.Context) (session, error)
}

// session sends messages one at a time, each in two steps: prepare does
// everything that cannot deliver the message yet (for SMTP: the envelope
// and the text, all but the "." that ends DATA), and the function it
// returns does the rest, up to the other side's answer. A nil error from
// that function means the other side accepted the message. The worker
// records each acceptance right after it (see worker.go).
type session interface {
	prepare(ctx context.Context, m store.Message) (commit func() error, err error)
	// broken tells whether the last error left the session unusable, so the
	// next message needs a new one.
	broken() bool
	close() error
}

// permanentError marks a failure that retrying cannot fix (an address that
// does not exist, a number the gateway refuses): the message fails at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
