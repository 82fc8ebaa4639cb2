package verify

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// ErrNoPasscodeDevice means the user has no activated phone or tablet that
// makes passcodes.
var ErrNoPasscodeDevice = errors.New("verify: no device makes passcodes")

// PasscodeStore is what CheckPasscode needs of the database.
type PasscodeStore interface {
	LockoutStore
	PhonesByUser(ctx context.Context, userID int64) ([]store.Phone, error)
}

// CheckPasscode verifies a passcode typed at login against the user's
// activated phones and tablets, as one attempt counted by CheckCode. open
// unseals a phone's TOTP secret. A correct code is spent (the phone's last
// step advances, so it never works twice) and clears the failure count; a
// wrong one counts towards lockout under failAction and returns
// *WrongCodeError or ErrLockedOut. A locked-out user is refused without
// looking at the code.
func CheckPasscode(ctx context.Context, st PasscodeStore, c clock.Clock, u store.User, code string,
	open func(store.Phone) (string, error), who audit.Who, failAction string) (store.Phone, error) {
	if u.Status == store.StatusLockedOut {
		return store.Phone{}, ErrLockedOut
	}
	phones, err := st.PhonesByUser(ctx, u.ID)
	if err != nil {
		return store.Phone{}, fmt.Errorf("verify: phones: %w", err)
	}
	var devices []store.Phone
	for _, ph := range phones {
		if ph.Activated && len(ph.TOTPSecret) > 0 {
			devices = append(devices, ph)
		}
	}
	if len(devices) == 0 {
		return store.Phone{}, ErrNoPasscodeDevice
	}
	code = NormalizeCode(code)
	var spent store.Phone
	err = CheckCode(ctx, st, c, CodeCheck{User: u, Who: who, WrongAction: failAction, Match: func() (Accept, error) {
		now := c.Now()
		type match struct {
			phone store.Phone
			step  int64
		}
		var matches []match
		for _, ph := range devices {
			secret, err := open(ph)
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
					spent = m.phone
					return nil
				}
			}
			// Used a moment ago by a concurrent login: a replay.
			return ErrWrongCode
		}, nil
	}})
	return spent, err
}
