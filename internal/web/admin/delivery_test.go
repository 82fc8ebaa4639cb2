package admin_test

import (
	"context"
	"testing"

	"enrollportal/internal/testkit"
)

// deliver runs the outbox worker until nothing is due (the fake clock does
// not move, so only messages due now go out).
func deliver(t *testing.T, p *testkit.Portal) {
	t.Helper()
	for i := 0; i < 100; i++ {
		sum, err := p.Notify.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Failed > 0 || sum.Retrying > 0 {
			t.Fatalf("delivery failed: %+v", sum)
		}
		if sum.Claimed == 0 {
			return
		}
	}
	t.Fatal("the outbox did not drain")
}
