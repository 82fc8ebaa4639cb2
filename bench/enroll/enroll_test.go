package enrollbench

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// BenchmarkIssue2 loads the database once and measures, in one run, the bare
// handler (the yardstick), the enrollment landing page and the
// code-verification step, all over real HTTP on loopback. Targets: landing
// page at least half the bare handler's throughput with p99 under 10 ms;
// verification at least 1,000 per second.
func BenchmarkIssue2(b *testing.B) {
	f := newFixture(b)
	n, d := clients(), phase()
	c := newClient(n)

	b.Run("landing-vs-bare", func(b *testing.B) {
		// Each landing request is a first visit, as opening an emailed
		// link is: no cookie, so the portal starts a session and a CSRF
		// token each time. The bare handler reads one user by username.
		var bare, landing loadResult
		profiled(b, "landing-vs-bare", func() {
			bare, landing = compare(b, 6, n, 2*d,
				func(int) error {
					return get(c, f.bareURL+"/bare/"+username(rand.IntN(totalUsers)), http.StatusOK)
				},
				func(int) error {
					return get(c, f.portalURL+"/enroll/"+f.links[rand.IntN(len(f.links))], http.StatusOK)
				})
		})
		bare.report(b, "bare")
		landing.report(b, "landing")
		b.ReportMetric(landing.perSecond()/bare.perSecond(), "landing/bare")
		// The same ratio from CPU time per request: what the throughput
		// ratio would be on a machine of its own, where CPU is the limit.
		b.ReportMetric(float64(bare.cpuPerOp())/float64(landing.cpuPerOp()), "landing/bare_cpu")
	})

	b.Run("landing-vs-bare-1-client", func(b *testing.B) {
		// One request at a time: the latency without queueing behind the
		// other clients, which is what a single person opening a link sees.
		bare, landing := compare(b, 4, 1, d,
			func(int) error {
				return get(c, f.bareURL+"/bare/"+username(rand.IntN(totalUsers)), http.StatusOK)
			},
			func(int) error {
				return get(c, f.portalURL+"/enroll/"+f.links[rand.IntN(len(f.links))], http.StatusOK)
			})
		bare.report(b, "bare1")
		landing.report(b, "landing1")
	})

	// The verification users walk to the code step first (not measured),
	// each in their own session.
	visitors := make([]*visitor, verifyUsers)
	t0 := time.Now()
	closedLoop(b, n, time.Hour, verifyUsers, func(seq int) error {
		v := newVisitor(c.Transport, f.portalURL, f.verifyLinks[seq])
		visitors[seq] = v
		return v.walkToCode()
	})
	b.Logf("%d visitors walked to the code step in %s", verifyUsers, time.Since(t0).Round(time.Millisecond))

	b.Run("verify-wrong-code", func(b *testing.B) {
		// A wrong code is the full round trip plus recording the failure
		// and its audit record. At most two per user, so no one comes
		// near the lockout and the same users can still finish below.
		var r loadResult
		commits := f.app.Store.WriteTransactions()
		profiled(b, "verify-wrong-code", func() {
			r = closedLoop(b, n, d, 2*verifyUsers, func(seq int) error {
				v := visitors[seq%verifyUsers]
				code, err := v.wrongCode(seq)
				if err != nil {
					return err
				}
				return v.postCode(code, http.StatusUnprocessableEntity, "")
			})
		})
		r.report(b, "verify_wrong")
		reportCommits(b, "verify_wrong", f.app.Store.WriteTransactions()-commits, r.ops)
	})

	b.Run("verify", func(b *testing.B) {
		// The correct code the app shows now: activates the phone, ends
		// the challenge and the link, in one transaction. Each user once,
		// so the run ends early if all of them are done.
		var r loadResult
		commits := f.app.Store.WriteTransactions()
		profiled(b, "verify", func() {
			r = closedLoop(b, n, d, verifyUsers, func(seq int) error {
				v := visitors[seq]
				code, err := v.currentCode()
				if err != nil {
					return err
				}
				return v.postCode(code, http.StatusSeeOther, "/done")
			})
		})
		r.report(b, "verify")
		reportCommits(b, "verify", f.app.Store.WriteTransactions()-commits, r.ops)
	})
}

// reportCommits publishes how many write transactions the portal committed
// per code checked: the shared transactions of the group committer, so
// under load several checks share one.
func reportCommits(b *testing.B, name string, commits int64, ops int) {
	if ops == 0 {
		return
	}
	b.ReportMetric(float64(commits)/float64(ops), name+"_commits/code")
}
