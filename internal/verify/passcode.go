package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// ErrNoPasscodeDevice means the user has nothing that makes passcodes: no
// activated phone or tablet, no hardware token and no live bypass code.
var ErrNoPasscodeDevice = errors.New("verify: no device makes passcodes")

// Factors a passcode can prove, as audit records and the Universal Prompt's
// auth_context name them.
const (
	FactorAppPasscode = "duo_mobile_passcode" // an authenticator app on a phone or tablet
	FactorBypassCode  = "bypass_code"         // an admin's bypass code or a user's recovery code
)

// Passcode is the factor a right passcode proved.
type Passcode struct {
	Factor string      // FactorAppPasscode, FactorBypassCode, FactorHardwareToken, FactorSMSPasscode
	Device string      // the phone's public id, or "" for a bypass code
	Phone  store.Phone // the phone, for FactorAppPasscode
}

// PasscodeStore is what CheckPasscode needs of the database.
type PasscodeStore interface {
	LockoutStore
	PhonesByUser(ctx context.Context, userID int64) ([]store.Phone, error)
	BypassCodesByUser(ctx context.Context, userID int64) ([]store.BypassCode, error)
	OATHTokensByUser(ctx context.Context, userID int64) ([]store.OATHToken, error)
	LiveSMSPasscodes(ctx context.Context, userID int64, now time.Time) ([]store.SMSPasscode, error)
}

// PasscodeSecrets opens what a passcode is compared with: a phone's sealed
// TOTP secret, and the keyed hashes that bypass codes and SMS passcodes are
// stored under (enroll.Service).
type PasscodeSecrets interface {
	OpenPhoneSecret(ph store.Phone) (string, error)
	BypassCodeHash(code string) []byte
	SMSPasscodeHash(code string) []byte
	OpenTokenSecret(t store.OATHToken) ([]byte, error)
}

// CheckPasscode verifies a passcode typed at login, as one attempt counted
// by CheckCode, against every passcode factor of the user: the activated
// phones' and tablets' TOTP codes (6 digits), the hardware tokens' codes,
// the live SMS passcodes (SMSPasscodeDigits digits) and the live bypass
// codes (BypassCodeDigits digits). A correct code is spent (the phone's last
// step advances, a bypass code loses a use) and clears the failure count;
// a wrong one counts towards lockout under failAction and returns
// *WrongCodeError or ErrLockedOut. A locked-out user is refused without
// looking at the code.
func CheckPasscode(ctx context.Context, st PasscodeStore, c clock.Clock, u store.User, code string,
	keys PasscodeSecrets, who audit.Who, failAction string) (Passcode, error) {
	if u.Status == store.StatusLockedOut {
		return Passcode{}, ErrLockedOut
	}
	phones, err := st.PhonesByUser(ctx, u.ID)
	if err != nil {
		return Passcode{}, fmt.Errorf("verify: phones: %w", err)
	}
	var devices []store.Phone
	for _, ph := range phones {
		if ph.Activated && len(ph.TOTPSecret) > 0 {
			devices = append(devices, ph)
		}
	}
	bypass, err := st.BypassCodesByUser(ctx, u.ID)
	if err != nil {
		return Passcode{}, fmt.Errorf("verify: bypass codes: %w", err)
	}
	now := c.Now()
	live := bypass[:0]
	for _, b := range bypass {
		if b.Live(now) {
			live = append(live, b)
		}
	}
	tokens, err := st.OATHTokensByUser(ctx, u.ID)
	if err != nil {
		return Passcode{}, fmt.Errorf("verify: hardware tokens: %w", err)
	}
	texted, err := st.LiveSMSPasscodes(ctx, u.ID, now)
	if err != nil {
		return Passcode{}, fmt.Errorf("verify: sms passcodes: %w", err)
	}
	if len(devices) == 0 && len(live) == 0 && len(tokens) == 0 && len(texted) == 0 {
		return Passcode{}, ErrNoPasscodeDevice
	}
	code = NormalizeCode(code)
	var spent Passcode
	err = CheckCode(ctx, st, c, CodeCheck{User: u, Who: who, WrongAction: failAction, Match: func() (Accept, error) {
		now := c.Now()
		if accept := matchBypassCode(live, keys, code, u.ID, now, &spent); accept != nil {
			return accept, nil
		}
		if accept := matchSMSPasscode(texted, keys, code, now, &spent); accept != nil {
			return accept, nil
		}
		if accept, err := matchTokenCode(tokens, keys, code, now, &spent); accept != nil || err != nil {
			return accept, err
		}
		return matchAppPasscode(devices, keys, code, now, &spent)
	}})
	return spent, err
}

// matchAppPasscode compares code with the TOTP codes of devices; the
// Accept spends the step of the first phone that matched and has not used
// it yet.
func matchAppPasscode(devices []store.Phone, keys PasscodeSecrets, code string, now time.Time, spent *Passcode) (Accept, error) {
	type match struct {
		phone store.Phone
		step  int64
	}
	var matches []match
	for _, ph := range devices {
		secret, err := keys.OpenPhoneSecret(ph)
		if err != nil {
			return nil, fmt.Errorf("verify: open secret of %s: %w", ph.Key, err)
		}
		if step, ok := MatchTOTP(secret, code, now, ph.LastTOTPStep); ok {
			matches = append(matches, match{ph, step})
		}
	}
	if len(matches) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, q store.Queries) error {
		for _, m := range matches {
			fresh, err := q.AdvanceTOTPStep(ctx, m.phone.ID, m.step)
			if err != nil {
				return fmt.Errorf("verify: spend passcode: %w", err)
			}
			if fresh {
				*spent = Passcode{Factor: FactorAppPasscode, Device: m.phone.Key, Phone: m.phone}
				return nil
			}
		}
		// Used a moment ago by a concurrent login: a replay.
		return ErrWrongCode
	}, nil
}
