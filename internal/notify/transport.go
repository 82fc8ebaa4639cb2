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

// session sends messages one at a time, each in steps: prepare does
// everything that cannot deliver the message yet (for SMTP: the envelope
// and the text, all but the "." that ends DATA) and returns the hand-off
// that does the rest.
type session interface {
	prepare(ctx context.Context, m store.Message) (handOff, error)
	// broken tells whether the last error left the session unusable, so the
	// next message needs a new one.
	broken() bool
	close() error
}

// handOff ends the delivery of a prepared message in two steps, so that
// the worker can record the delivery between them (see deliver in
// worker.go). give hands over the last of the message: after it returns
// nil the other side may keep the message whatever happens to this
// process. For SMTP that is the "." that ends DATA, written to the socket:
// once the kernel has it, the connection of even a killed process carries
// it to the relay. answer then waits for the other side's verdict; nil
// means it accepted the message.
type handOff struct {
	give   func() error
	answer func() error
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
