package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"enrollportal/internal/notify"
	"enrollportal/internal/store"
)

// EnqueueEnrollmentEmails writes n enrollment emails to p's outbox in one
// transaction, numbered from first: user{first}@example.com and on.
func EnqueueEnrollmentEmails(t testing.TB, p *Portal, first, n int) {
	t.Helper()
	ctx := context.Background()
	err := p.Store.InTx(ctx, func(q store.Queries) error {
		org, err := p.Notify.Org(ctx, q)
		if err != nil {
			return err
		}
		for i := first; i < first+n; i++ {
			u := store.User{Username: fmt.Sprintf("user%03d", i), Email: fmt.Sprintf("user%03d@example.com", i)}
			m := notify.EnrollmentEmail(org, u, fmt.Sprintf("%s/enroll/token%d", p.URL, i), p.Clock.Now().Add(time.Hour), nil)
			m.IntentKey = notify.EnrollLinkIntent(int64(i+1), 1)
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

// DeliverAllAfterRestart starts p again after its worker was killed
// (Restart) and delivers until nothing is due; all n messages of the outbox
// (every one queued so far) must then be sent, without waiting out the dead process's claims (the
// restarted clock does not move), or the test fails.
func DeliverAllAfterRestart(t testing.TB, p *Portal, n int) {
	t.Helper()
	again := Restart(t, p)
	ctx := context.Background()
	for {
		sum, err := again.Notify.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Claimed == 0 {
			break
		}
	}
	counts, err := again.Store.CountMessagesByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.MessageSent] != n {
		t.Fatalf("after the restart: %v, want all %d sent (a dead process's claims wait for their lease)", counts, n)
	}
}
