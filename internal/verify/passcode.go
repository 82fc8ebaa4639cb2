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

// CheckPasscode verifies a passcode typed at login against the user's
// activated phones and tablets. open unseals a phone's TOTP secret. A
// correct code is spent (the phone's last step advances, so it never works
// twice) and clears the failure count; a wrong one counts towards lockout
// under failAction and returns *WrongCodeError or ErrLockedOut. A locked-out
// user is refused without looking at the code.
func CheckPasscode(ctx context.Context, st store.Store, c clock.Clock, u store.User, code string,
	open func(store.Phone) (string, error), who audit.Who, failAction string) (store.Phone, error) {
	if u.Status == store.StatusLockedOut {
		return store.Phone{}, ErrLockedOut
	}
	phones, err := st.PhonesByUser(ctx, u.ID)
	if err != nil {
		return store.Phone{}, fmt.Errorf("verify: phones: %w", err)
	}
	code = NormalizeCode(code)
	now := c.Now()
	hasDevice := false
	for _, ph := range phones {
		if !ph.Activated || len(ph.TOTPSecret) == 0 {
			continue
		}
		hasDevice = true
		secret, err := open(ph)
		if err != nil {
			return store.Phone{}, fmt.Errorf("verify: open secret of %s: %w", ph.Key, err)
		}
		step, ok := MatchTOTP(secret, code, now, ph.LastTOTPStep)
		if !ok {
			continue
		}
		fresh, err := st.AdvanceTOTPStep(ctx, ph.ID, step)
		if err != nil {
			return store.Phone{}, fmt.Errorf("verify: spend passcode: %w", err)
		}
		if !fresh {
			// Used a moment ago by a concurrent login: a replay.
			continue
		}
		if u.FailedAttempts > 0 {
			if err := st.ResetUserFailures(ctx, u.ID); err != nil {
				return store.Phone{}, fmt.Errorf("verify: reset failures: %w", err)
			}
		}
		return ph, nil
	}
	if !hasDevice {
		return store.Phone{}, ErrNoPasscodeDevice
	}
	return store.Phone{}, RecordFailure(ctx, st, c, u, failAction, who)
}
