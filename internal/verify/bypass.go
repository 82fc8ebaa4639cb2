package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"enrollportal/internal/store"
)

// BypassCodeDigits is the length of a bypass code: longer than any device's
// passcode (6 or 8 digits), so a code's shape says which kind it is, and
// all digits, so that login_duo and pam_duo pass it on as a passcode.
const BypassCodeDigits = 9

// HashBypassCode is the keyed hash (HMAC-SHA-256 under key) a bypass code
// is stored and looked up by. Keyed, because nine digits are too few to
// survive a plain hash being read from a stolen database.
func HashBypassCode(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// ValidBypassCodeShape reports whether code is BypassCodeDigits ASCII digits.
func ValidBypassCodeShape(code string) bool {
	if len(code) != BypassCodeDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchBypassCode compares code with the live bypass codes of user; the
// Accept uses the code once (ErrWrongCode when a concurrent login took its
// last use first). The hash is compared in constant time, though as a
// keyed hash it leaks nothing a guesser could use anyway.
func matchBypassCode(live []store.BypassCode, keys PasscodeSecrets, code string, userID int64, now time.Time, spent *Passcode) Accept {
	if len(live) == 0 || !ValidBypassCodeShape(code) {
		return nil
	}
	h := keys.BypassCodeHash(code)
	found := false
	for _, b := range live {
		if hmac.Equal(b.CodeHash, h) {
			found = true
		}
	}
	if !found {
		return nil
	}
	return func(ctx context.Context, q store.Queries) error {
		ok, err := q.SpendBypassCode(ctx, userID, h, now)
		if err != nil {
			return fmt.Errorf("verify: spend bypass code: %w", err)
		}
		if !ok {
			return ErrWrongCode
		}
		*spent = Passcode{Factor: FactorBypassCode}
		return nil
	}
}
