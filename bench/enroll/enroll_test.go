package enrollbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/verify"
)

// BenchmarkIssue2 loads the database once and measures, in one run, the bare
// handler (the yardstick), the portal's pages and the code-verification
// step. Targets: landing page at least half the bare handler's throughput
// with p99 under 10 ms; verification at least 1,000 per second.
func BenchmarkIssue2(b *testing.B) {
	f := newFixture(b)
	n, d := clients(), phase()
	c := newClient(n)
	var bare loadResult

	b.Run("bare", func(b *testing.B) {
		bare = closedLoop(b, n, d, 0, func(seq int) error {
			return get(c, f.bareURL+"/bare/"+username(rand.IntN(totalUsers)), 200)
		})
		bare.report(b, "bare")
	})
	b.Run("home", func(b *testing.B) {
		r := closedLoop(b, n, d, 0, func(seq int) error { return get(c, f.portalURL+"/", 200) })
		r.report(b, "home")
		b.ReportMetric(r.perSecond()/bare.perSecond(), "home/bare")
	})
	b.Run("healthz", func(b *testing.B) {
		r := closedLoop(b, n, d, 0, func(seq int) error { return get(c, f.portalURL+"/healthz", 200) })
		r.report(b, "healthz")
		b.ReportMetric(r.perSecond()/bare.perSecond(), "healthz/bare")
	})
	b.Run("verify-wrong-code", func(b *testing.B) {
		// A wrong code is the full round trip: load the user and the sealed
		// challenge, open it, check the code, then record the failure and
		// its audit record in a transaction. Each user takes at most
		// MaxFailures-1 of them, so nobody is locked out mid-run.
		ctx := context.Background()
		maxOps := verifyUsers * (verify.MaxFailures - 1)
		wrong := make([]string, verifyUsers)
		for i, s := range f.setups {
			wrong[i] = wrongCode(b, s.Secret, f.app.Clock.Now())
		}
		r := closedLoop(b, n, d, maxOps, func(seq int) error {
			i := seq % verifyUsers
			_, err := f.app.Enroll.ConfirmAuthenticator(ctx, enroll.Proof{
				User: f.setupUser[i], ChallengeKey: f.setups[i].ChallengeKey,
				Who: audit.Who{Type: "user", Name: f.setupUser[i].Username, IP: "127.0.0.1"},
			}, wrong[i])
			var wc *verify.WrongCodeError
			if !errors.As(err, &wc) {
				return fmt.Errorf("confirm with a wrong code: %v", err)
			}
			return nil
		})
		r.report(b, "verify")
	})
}

// wrongCode is a six-digit code that matches none of the steps the portal
// accepts around now.
func wrongCode(b *testing.B, secret string, now time.Time) string {
	valid := map[string]bool{}
	for _, off := range []time.Duration{-60 * time.Second, -30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
		code, err := totp.GenerateCode(secret, now.Add(off))
		if err != nil {
			b.Fatal(err)
		}
		valid[code] = true
	}
	for {
		code := fmt.Sprintf("%06d", rand.IntN(1_000_000))
		if !valid[code] {
			return code
		}
	}
}
