package prompt

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// PhoneSecrets opens the TOTP secret of an activated phone (enroll.Service).
type PhoneSecrets interface {
	OpenPhoneSecret(ph store.Phone) (string, error)
}

// ErrNoPasscodeDevice means the user has no activated phone or tablet to
// take a passcode from.
var ErrNoPasscodeDevice = errors.New("prompt: no authenticator app set up")

// CheckPasscode checks a passcode from the user's authenticator app against
// each of their activated phones and tablets, under the same rules as
// enrollment (one step either side, never a step already used). A correct
// code finishes the login. A wrong one counts towards lockout and returns
// *verify.WrongCodeError; the one that locks the user out ends the login
// with a denial and returns verify.ErrLockedOut.
func (s *Service) CheckPasscode(ctx context.Context, t *Transaction, u store.User, phones PhoneSecrets, code string, who audit.Who) error {
	u, err := s.store.UserByID(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("prompt: passcode: %w", err)
	}
	if u.Status == store.StatusLockedOut {
		return s.lockedOut(ctx, t, u)
	}
	list, err := s.store.PhonesByUser(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("prompt: passcode: %w", err)
	}
	code = verify.NormalizeCode(code)
	now := s.clock.Now()
	devices := 0
	for _, ph := range list {
		if !ph.Activated || ph.TOTPSecret == nil {
			continue
		}
		devices++
		sec, err := phones.OpenPhoneSecret(ph)
		if err != nil {
			return fmt.Errorf("prompt: passcode: %w", err)
		}
		step, ok := verify.MatchTOTP(sec, code, now, ph.LastTOTPStep)
		if !ok {
			continue
		}
		fresh, err := s.store.AdvanceTOTPStep(ctx, ph.ID, step)
		if err != nil {
			return fmt.Errorf("prompt: passcode: %w", err)
		}
		if !fresh {
			// The same code was used a moment ago by a concurrent request.
			break
		}
		if err := s.store.ResetUserFailures(ctx, u.ID); err != nil {
			return fmt.Errorf("prompt: passcode: %w", err)
		}
		return s.Succeed(ctx, t, u, FactorPasscode, "valid_passcode")
	}
	if devices == 0 {
		return ErrNoPasscodeDevice
	}
	err = verify.RecordFailure(ctx, s.store, s.clock, u, audit.PromptPasscodeFailed, who)
	if errors.Is(err, verify.ErrLockedOut) {
		return s.lockedOut(ctx, t, u)
	}
	return err
}

func (s *Service) lockedOut(ctx context.Context, t *Transaction, u store.User) error {
	if err := s.Fail(ctx, t, &u, FactorPasscode, "locked_out",
		"Your account is locked after too many wrong passcodes."); err != nil {
		return err
	}
	return verify.ErrLockedOut
}
