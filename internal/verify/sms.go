package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"enrollportal/internal/store"
)

// FactorSMSPasscode names an SMS passcode in audit records and the
// Universal Prompt's auth_context.
const FactorSMSPasscode = "sms_passcode"

// SMS passcodes: seven digits, as Duo's, so that a code's length tells it
// from an app's (6), a token's (6 or 8) and a bypass code (9); valid for
// SMSPasscodeTTL and once.
const (
	SMSPasscodeDigits = 7
	SMSPasscodeTTL    = 5 * time.Minute
)

// HashSMSPasscode is the keyed hash (HMAC-SHA-256 under key) an SMS passcode
// is stored and looked up by: seven digits are too few to survive a plain
// hash read from a stolen database.
func HashSMSPasscode(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sms-passcode\x00" + code))
	return m.Sum(nil)
}

// SMSPhones are the phones among phones that take SMS passcodes
// (store.Phone.TakesSMS).
func SMSPhones(phones []store.Phone) []store.Phone {
	var out []store.Phone
	for _, ph := range phones {
		if ph.TakesSMS() {
			out = append(out, ph)
		}
	}
	return out
}

// validSMSPasscodeShape reports whether code is SMSPasscodeDigits ASCII digits.
func validSMSPasscodeShape(code string) bool {
	if len(code) != SMSPasscodeDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchSMSPasscode compares code with the user's live SMS passcodes, in
// constant time; the Accept spends the one that matched (ErrWrongCode when
// a concurrent login spent it first, or it expired meanwhile).
func matchSMSPasscode(live []store.SMSPasscode, keys PasscodeSecrets, code string, now time.Time, spent *Passcode) Accept {
	if len(live) == 0 || !validSMSPasscodeShape(code) {
		return nil
	}
	h := keys.SMSPasscodeHash(code)
	var found *store.SMSPasscode
	for i := range live {
		if hmac.Equal(live[i].CodeHash, h) && found == nil {
			found = &live[i]
		}
	}
	if found == nil {
		return nil
	}
	return func(ctx context.Context, q store.Queries) error {
		ok, err := q.SpendSMSPasscode(ctx, found.ID, now)
		if err != nil {
			return fmt.Errorf("verify: spend sms passcode: %w", err)
		}
		if !ok {
			return ErrWrongCode
		}
		*spent = Passcode{Factor: FactorSMSPasscode}
		return nil
	}
}
