package notify_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"enrollportal/internal/config"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunWorkerChildIfAsked()
	os.Exit(m.Run())
}

// TestKillDuringDeliveryDuplicatesAtMostOneAndDelaysNone kills (SIGKILL) a
// real portal process while it delivers 400 emails to an SMTP server, three
// times over, then starts the portal again each time. The new start takes
// the dead process's claims back at once (no 5-minute lease to wait out:
// the restarted worker's clock does not move) and delivers the rest; the
// SMTP server has each message at least once, and at most one of them
// twice. The kill comes as the SMTP server keeps a message: the killed
// sender has written the "." that ends DATA, and usually its record too
// (see deliver), so most rounds have no duplicate at all.
func TestKillDuringDeliveryDuplicatesAtMostOneAndDelaysNone(t *testing.T) {
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprint("crash ", round), func(t *testing.T) {
			inbox := testkit.NewInbox(t)
			p := testkit.New(t, func(s *config.Settings) {
				s.SMTPURL, s.MailFrom = "smtp://"+inbox.Addr, "Example Org <portal@example.org>"
			})
			const n = 400
			testkit.EnqueueEnrollmentEmails(t, p, 0, n)

			child := testkit.StartWorkerChild(t, p, 0)
			for deadline := time.Now().Add(time.Minute); inbox.Count() < 40*round && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			child.Kill(t)
			atKill := inbox.Count()
			if atKill >= n {
				t.Fatalf("the child delivered all %d before it was killed", n)
			}

			restarted := time.Now()
			testkit.DeliverAllAfterRestart(t, p, n)
			took := time.Since(restarted)
			ids := inbox.DistinctMessageIDs()
			dups := inbox.Count() - ids
			t.Logf("killed after %d of %d delivered; %d duplicate(s); the rest delivered %.2f s after the restart",
				atKill, n, dups, took.Seconds())
			if ids != n || dups > 1 {
				t.Fatalf("%d distinct messages and %d duplicates at the SMTP server, want %d and at most 1", ids, dups, n)
			}
		})
	}
}

// TestKillDuringSMSDeliveryDuplicatesAtMostOne is the SMS form of the test
// above: a real portal process sends 200 texts to a webhook gateway that
// answers 10 ms after it has taken each text, and is killed (SIGKILL) part
// way, three times over. The gateway has every text at least once after the
// restart, and at most one of them twice.
func TestKillDuringSMSDeliveryDuplicatesAtMostOne(t *testing.T) {
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprint("crash ", round), func(t *testing.T) {
			gateway := testkit.NewSlowSMSGateway(t, 10*time.Millisecond)
			p := testkit.New(t, testkit.WithDelivery(nil, gateway))
			const n = 200
			enqueueSMS(t, p, n)

			child := testkit.StartWorkerChild(t, p, 0)
			for deadline := time.Now().Add(time.Minute); len(gateway.Received()) < 30*round && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			child.Kill(t)
			atKill := len(gateway.Received())
			if atKill >= n {
				t.Fatalf("the child delivered all %d before it was killed", n)
			}

			testkit.DeliverAllAfterRestart(t, p, n)
			intents := map[string]int{}
			for _, m := range gateway.Received() {
				intents[m.Intent]++
			}
			dups := len(gateway.Received()) - len(intents)
			t.Logf("killed after %d of %d texts; %d duplicate(s)", atKill, n, dups)
			if len(intents) != n || dups > 1 {
				t.Fatalf("%d distinct texts and %d duplicates at the gateway, want %d and at most 1", len(intents), dups, n)
			}
		})
	}
}

// enqueueSMS writes n activation texts, each to its own number, to the
// outbox.
func enqueueSMS(t *testing.T, p *testkit.Portal, n int) {
	t.Helper()
	ctx := context.Background()
	err := p.Store.InTx(ctx, func(q store.Queries) error {
		org, err := p.Notify.Org(ctx, q)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			number := fmt.Sprintf("+1201555%04d", i)
			u := store.User{Username: fmt.Sprintf("user%03d", i)}
			m := notify.ActivationSMS(org, u, number, p.URL+"/install", fmt.Sprintf("%s/activate/code%d", p.URL, i), p.Clock.Now().Add(time.Hour), nil)[1]
			m.IntentKey = notify.ActivationIntent(int64(i+1), "sms-activate")
			if _, err := notify.Enqueue(ctx, q, m, p.Clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
