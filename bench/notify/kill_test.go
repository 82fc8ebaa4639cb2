package notify_test

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"enrollportal/internal/config"
	"enrollportal/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunWorkerChildIfAsked()
	os.Exit(m.Run())
}

// BenchmarkDuplicatesAfterKill kills (SIGKILL) a real portal process at a
// random moment while it delivers 500 emails to an SMTP server on this
// machine, starts the portal again to deliver the rest, and counts at the
// server the emails that arrived twice (same Message-ID), over 20 kills on
// SQLite and 20 on PostgreSQL, each round on the database of the last.
// The moment is drawn uniformly from the first 200 ms of the delivery, not
// tied to any one email, as an operator's kill -9 would be; a kill after
// the round's last email is not counted. Every email must arrive at least
// once (DeliverAllAfterRestart). Duplicates per kill are about the share
// of the time a sender spends between the "." that ends DATA and the
// write of its record, so they grow with the delivery rate (a relay on
// this machine takes thousands a second) and with the machine's load.
func BenchmarkDuplicatesAfterKill(b *testing.B) {
	const rounds, n = 20, 500
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			kills := 0
			var inbox *testkit.Inbox
			for i := 0; i < b.N; i++ {
				inbox = testkit.NewInbox(b)
				p := testkit.New(b, func(s *config.Settings) {
					s.SMTPURL, s.MailFrom = "smtp://"+inbox.Addr, "Example Org <portal@example.org>"
					if backend == "postgres" {
						s.DB = testkit.StartPostgres(b)
					}
				})
				for round := 0; round < rounds; round++ {
					before := inbox.Count()
					testkit.EnqueueEnrollmentEmails(b, p, round*n, n)
					child := testkit.StartWorkerChild(b, p, 0)
					for deadline := time.Now().Add(time.Minute); inbox.Count() == before && time.Now().Before(deadline); {
						time.Sleep(time.Millisecond)
					}
					time.Sleep(rand.N(200 * time.Millisecond))
					child.Kill(b)
					atKill := inbox.Count() - before
					testkit.DeliverAllAfterRestart(b, p, (round+1)*n)
					if atKill < n {
						kills++
					}
				}
			}
			dups := inbox.Count() - inbox.DistinctMessageIDs()
			b.ReportMetric(float64(kills), "kills")
			b.ReportMetric(float64(dups), "duplicates")
			b.Logf("%d kills mid-delivery (at random moments), %d email(s) delivered twice", kills, dups)
		})
	}
}
