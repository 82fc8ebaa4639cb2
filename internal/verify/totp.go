package verify

import (
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TOTP parameters every authenticator app understands.
const (
	Period = 30 // seconds
	Digits = 6
	// Skew is how many steps either side of now are accepted.
	Skew = 1
)

// Step returns the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// NormalizeCode strips the spaces and dashes people type or paste inside a
// code ("123 456").
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

// ValidCodeShape reports whether code is six ASCII digits.
func ValidCodeShape(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// MatchTOTP returns the step whose code equals code, looking Skew steps
// either side of now and never at or before lastStep (a replay). Every
// candidate is computed and compared in constant time.
func MatchTOTP(base32Secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	if !ValidCodeShape(code) {
		return 0, false
	}
	current := Step(now)
	for s := current - Skew; s <= current+Skew; s++ {
		want, err := hotp.GenerateCodeCustom(base32Secret, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// ValidPasscodeShape reports whether code could be a passcode of some
// factor: an app's or a token's six digits, an SMS passcode's seven, a
// token's eight, a bypass code's nine.
func ValidPasscodeShape(code string) bool {
	if len(code) == 8 && strings.Trim(code, "0123456789") == "" {
		return true // an 8-digit hardware token
	}
	return ValidCodeShape(code) || ValidBypassCodeShape(code) || validSMSPasscodeShape(code)
}
