package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/bulk"
	"enrollportal/internal/notify"
	"enrollportal/internal/testkit"
)

// A bulk enrollment of 1,000 users queues 1,000 emails; both instances'
// workers deliver them to a relay slow enough that they share the work,
// and every email arrives once. Then the same with one instance killed
// (SIGKILL) mid-delivery: the other takes its claims back and finishes,
// and none is lost. An email the killed one had handed to the relay (its
// 250 after DATA) but not yet recorded as sent may arrive twice, with the same
// Message-ID: a plain SMTP relay takes no idempotency key, and the relay's
// acceptance and the outbox's record are two commits on two systems, one of
// which comes first. A worker's senders take the step from the end of DATA
// to the record one at a time (notify's acceptMu), so a kill duplicates at
// most one email.
func TestTwoInstancesDeliverABulkEnrollmentsEmailsOnce(t *testing.T) {
	for _, kill := range []bool{false, true} {
		name := "both running"
		if kill {
			name = "one killed mid-delivery"
		}
		t.Run(name, func(t *testing.T) {
			const n = 1000
			inbox := testkit.NewSlowInbox(t, 5*time.Millisecond)
			c := newCluster(t, testkit.StartPostgres(t), 2, withInbox(inbox))
			rows := make([]bulk.Row, n)
			for i := range rows {
				rows[i] = bulk.Row{Line: i + 1, Username: fmt.Sprintf("bulk%04d", i), Email: fmt.Sprintf("bulk%04d@example.com", i)}
			}
			if _, err := c.Handle.Bulk.Start(context.Background(), rows, notify.DefaultEnrollment, audit.CLI()); err != nil {
				t.Fatal(err)
			}
			killedAt := -1
			if kill {
				for deadline := time.Now().Add(time.Minute); inbox.Count() < n/4 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				c.Kill(t, 0)
				if killedAt = inbox.Count(); killedAt >= n {
					t.Fatalf("all %d delivered before the kill", n)
				}
			}
			// Same host: the survivor sees the killed process's lock go and
			// takes its claims back at its next heartbeat (10 s).
			deadline := time.Now().Add(90 * time.Second)
			for distinctMessageIDs(t, inbox) < n && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(time.Second) // anything sent twice would arrive by now
			ids := distinctMessageIDs(t, inbox)
			dups := inbox.Count() - ids
			perInstance := []int{strings.Count(c.Logs(0), `"msg":"outbox: sent"`), strings.Count(c.Logs(1), `"msg":"outbox: sent"`)}
			t.Logf("%d emails: %d distinct at the relay, %d duplicate(s); sent by instance 0: %d, by instance 1: %d (killed after %d arrived)",
				n, ids, dups, perInstance[0], perInstance[1], killedAt)
			if ids != n {
				t.Fatalf("%d distinct emails arrived, want %d", ids, n)
			}
			if perInstance[0] == 0 || perInstance[1] == 0 {
				t.Errorf("one worker sent nothing: %v", perInstance)
			}
			switch {
			case !kill && dups != 0:
				t.Errorf("%d emails arrived twice with both instances running, want none", dups)
			case kill && dups > 1:
				t.Errorf("%d emails arrived twice after the kill, want at most one (the killed worker's one acceptance not yet recorded)", dups)
			}
		})
	}
}

// distinctMessageIDs counts the emails at the relay by Message-ID, which
// a resend keeps.
func distinctMessageIDs(t *testing.T, in *testkit.Inbox) int {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range in.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")] = true
	}
	return len(ids)
}
