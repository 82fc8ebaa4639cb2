package main

import (
	"context"
	"fmt"
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
// and none is lost. The kill comes as the relay keeps an email, before it
// answers (the slow relay answers 5 ms later): the worst moment for the
// killed sender, which has written the "." and must have written the
// record of the delivery too (notify's deliver records it between the two,
// see there). Only a kill in the microseconds between those two writes
// sends an email twice, with the same Message-ID, and never more than one.
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
			for inbox.DistinctMessageIDs() < n && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(time.Second) // anything sent twice would arrive by now
			ids := inbox.DistinctMessageIDs()
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
				t.Errorf("%d emails arrived twice after the kill, want at most one (a kill between the end of DATA and its record)", dups)
			}
		})
	}
}
