package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"time"

	"enrollportal/internal/store"
)

// FactorHardwareToken names a hardware token's passcode in audit records
// and auth_context.
const FactorHardwareToken = "hardware_token"

// HOTPWindow is how many counters past the last one used a HOTP token's
// code is looked for (buttons pressed while away from the login).
const HOTPWindow = 10

// TokenDigits is how many digits a token of type typ shows.
func TokenDigits(typ string) int {
	if typ == store.TokenHOTP8 || typ == store.TokenTOTP8 {
		return 8
	}
	return 6
}

// IsTOTPToken reports whether a token of type typ is time-based.
func IsTOTPToken(typ string) bool { return typ == store.TokenTOTP6 || typ == store.TokenTOTP8 }

// OATHCode is the RFC 4226 code of secret at counter, digits long.
func OATHCode(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// MatchToken returns the counter (HOTP) or step (TOTP) at which code is
// the token's, never at or below t.Counter (the last used: a replay): for
// HOTP the next HOTPWindow counters, for TOTP one step either side of now.
// Every candidate is compared in constant time.
func MatchToken(t store.OATHToken, secret []byte, code string, now time.Time) (int64, bool) {
	digits := TokenDigits(t.Type)
	if len(code) != digits {
		return 0, false
	}
	from, to := t.Counter+1, t.Counter+HOTPWindow
	if IsTOTPToken(t.Type) {
		step := int64(t.Step)
		if step <= 0 {
			step = 30
		}
		cur := now.Unix() / step
		from, to = max(cur-1, t.Counter+1), cur+1
	}
	var found int64
	ok := false
	for c := from; c <= to; c++ {
		if c < 0 {
			continue
		}
		if hmac.Equal([]byte(OATHCode(secret, uint64(c), digits)), []byte(code)) && !ok {
			found, ok = c, true
		}
	}
	return found, ok
}

// matchTokenCode compares code with the user's tokens; the Accept spends
// the counter or step (ErrWrongCode when a concurrent login did first).
func matchTokenCode(tokens []store.OATHToken, keys PasscodeSecrets, code string, now time.Time, spent *Passcode) (Accept, error) {
	for _, t := range tokens {
		secret, err := keys.OpenTokenSecret(t)
		if err != nil {
			return nil, fmt.Errorf("verify: open secret of token %s: %w", t.Serial, err)
		}
		counter, ok := MatchToken(t, secret, code, now)
		if !ok {
			continue
		}
		return func(ctx context.Context, q store.Queries) error {
			fresh, err := q.AdvanceTokenCounter(ctx, t.ID, counter)
			if err != nil {
				return fmt.Errorf("verify: spend token code: %w", err)
			}
			if !fresh {
				return ErrWrongCode
			}
			*spent = Passcode{Factor: FactorHardwareToken, Device: t.Key}
			return nil
		}, nil
	}
	return nil, nil
}
