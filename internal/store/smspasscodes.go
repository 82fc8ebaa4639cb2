package store

import (
	"context"
	"time"
)

// SMSPasscode is a one-time passcode texted to a user's mobile phone. Only a
// keyed hash of the code is stored; UsedAt is set once it has signed the
// user in.
type SMSPasscode struct {
	ID        int64
	UserID    int64
	PhoneID   int64
	CodeHash  []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Message priorities: the outbox delivers higher ones first.
const (
	PriorityNormal = 0
	// PriorityLogin is a message someone is waiting for to finish a
	// login (an SMS passcode): ahead of bulk enrollment mail.
	PriorityLogin = 10
)

// SMSPasscodeQueries store the SMS passcodes and count their sends.
type SMSPasscodeQueries interface {
	// SMSPasscodesSentSince counts the passcodes texted to the phone after
	// since, used or not, and tells when the oldest of them was sent
	// (zero when none was).
	SMSPasscodesSentSince(ctx context.Context, phoneID int64, since time.Time) (n int, oldest time.Time, err error)
	// CreateSMSPasscode inserts p, sets its ID, counts the send on the
	// phone (sms_passcodes_sent) and removes the phone's rows created
	// before forgetBefore, which no limit or login needs any more.
	CreateSMSPasscode(ctx context.Context, p *SMSPasscode, forgetBefore time.Time) error
	// LiveSMSPasscodes lists the user's unused passcodes that have not
	// expired at now.
	LiveSMSPasscodes(ctx context.Context, userID int64, now time.Time) ([]SMSPasscode, error)
	// SpendSMSPasscode marks the passcode used. It reports false when it was
	// used already (by a concurrent login) or has expired at now.
	SpendSMSPasscode(ctx context.Context, id int64, now time.Time) (bool, error)
}
