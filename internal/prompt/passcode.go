package prompt

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// PhoneSecrets opens what passcodes are compared with (enroll.Service).
type PhoneSecrets = verify.PasscodeSecrets

// CheckPasscode checks a passcode from the user's authenticator app with
// the rules every login shares (verify.CheckPasscode: one step either side,
// never a step already used, wrong codes counted towards lockout). A correct
// code finishes the login. A wrong one returns *verify.WrongCodeError; the
// one that locks the user out (or a user already locked out) ends the login
// with a denial and returns verify.ErrLockedOut. verify.ErrNoPasscodeDevice
// means the user has no phone or tablet to take a code from.
func (s *Service) CheckPasscode(ctx context.Context, t *Transaction, u store.User, phones PhoneSecrets, code string, who audit.Who) error {
	u, err := s.store.UserByID(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("prompt: passcode: %w", err)
	}
	pc, err := verify.CheckPasscode(ctx, s.store, s.clock, u, code, phones, who, audit.PromptPasscodeFailed)
	switch {
	case err == nil:
		return s.Succeed(ctx, t, u, pc.Factor, "valid_passcode")
	case errors.Is(err, verify.ErrLockedOut):
		d := policy.LockedOutDenial()
		if err := s.Fail(ctx, t, &u, FactorPasscode, d.Reason, d.Message); err != nil {
			return err
		}
		return verify.ErrLockedOut
	}
	return err
}
