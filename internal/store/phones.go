package store

import (
	"context"
	"time"
)

// Phone types.
const (
	PhoneMobile   = "mobile"
	PhoneTablet   = "tablet"
	PhoneLandline = "landline"
)

// Phone platforms, spelled as Duo spells them.
const (
	PlatformIOS     = "Apple iOS"
	PlatformAndroid = "Google Android"
	PlatformGeneric = "Generic Smartphone"
	PlatformUnknown = "Unknown"
)

// Phone is a mobile phone, tablet or landline. An activated mobile or tablet
// holds a TOTP secret (sealed) that its authenticator app also holds.
type Phone struct {
	ID               int64
	Key              string // public id, "DP..."
	Number           string // E.164, empty for tablets
	Extension        string
	Name             string
	Type             string
	Platform         string
	TOTPSecret       []byte // sealed; nil until an authenticator app is set up
	Activated        bool
	ActivatedAt      *time.Time
	LastTOTPStep     int64
	SMSPasscodesSent int
	CreatedAt        time.Time
}

// TakesSMS reports whether p takes SMS passcodes: a mobile phone with a
// number that its user has activated (enrolled). A number an admin typed
// for a phone that was never set up is not one: nobody has shown that it
// reaches the user. policy's "enrolled" and the SQL of the admin figures
// say the same.
func (p Phone) TakesSMS() bool {
	return p.Type == PhoneMobile && p.Number != "" && p.Activated
}

// PhoneQueries reads and writes phones and their link to users.
type PhoneQueries interface {
	// CreatePhone inserts p and sets its ID.
	CreatePhone(ctx context.Context, p *Phone) error
	AttachPhone(ctx context.Context, userID, phoneID int64) error
	PhoneByID(ctx context.Context, id int64) (Phone, error)
	PhonesByUser(ctx context.Context, userID int64) ([]Phone, error)
	// ActivatePhone stores the sealed TOTP secret and the step of the code
	// that proved it, and marks the phone activated.
	ActivatePhone(ctx context.Context, id int64, sealedSecret []byte, step int64, at time.Time) error
	// AdvanceTOTPStep records that the code of step was used. It reports false
	// when that step (or a later one) was already used: a replay.
	AdvanceTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
}
