package verify

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func code(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(testSecret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatchTOTPWindowAndReplay(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 15, 0, time.UTC)
	cur := Step(now)
	cases := []struct {
		name     string
		at       time.Time
		lastStep int64
		ok       bool
		step     int64
	}{
		{"current step", now, 0, true, cur},
		{"one step early", now.Add(-30 * time.Second), 0, true, cur - 1},
		{"one step late", now.Add(30 * time.Second), 0, true, cur + 1},
		{"two steps early", now.Add(-60 * time.Second), 0, false, 0},
		{"two steps late", now.Add(60 * time.Second), 0, false, 0},
		{"replay of the last used step", now, cur, false, 0},
		{"older than the last used step", now.Add(-30 * time.Second), cur, false, 0},
		{"next step after the last used", now.Add(30 * time.Second), cur, true, cur + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step, ok := MatchTOTP(testSecret, code(t, c.at), now, c.lastStep)
			if ok != c.ok || step != c.step {
				t.Fatalf("got step %d ok %v, want %d %v", step, ok, c.step, c.ok)
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "12a456", "１２３４５６"} {
		if _, ok := MatchTOTP(testSecret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if NormalizeCode(" 123 456 ") != "123456" || NormalizeCode("123-456") != "123456" {
		t.Error("NormalizeCode keeps separators")
	}
}
