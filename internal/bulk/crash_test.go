package bulk_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"enrollportal/internal/bulk"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunWorkerChildIfAsked()
	os.Exit(m.Run())
}

// TestSendKilledPartWayFinishesExactlyOnceOnRestart kills (SIGKILL) the
// process applying a bulk enrollment of 1,000 users after its third step,
// then starts the portal again: the send goes on from where it stopped at
// once (no lease to wait out) and every user ends with exactly one user
// row, one link and one email.
func TestSendKilledPartWayFinishesExactlyOnceOnRestart(t *testing.T) {
	p, svc := newBulk(t)
	p.StopJobRunner() // the child process runs the job
	ctx := context.Background()
	const n = 1000
	rows := make([]bulk.Row, n)
	for i := range rows {
		rows[i] = bulk.Row{Line: i + 1, Username: fmt.Sprintf("crash%04d", i), Email: fmt.Sprintf("crash%04d@example.com", i)}
	}
	id, err := svc.Start(ctx, rows, notify.DefaultEnrollment, admin)
	if err != nil {
		t.Fatal(err)
	}
	testkit.StartWorkerChild(t, p, 250).WaitKilled(t)

	j, err := p.Store.JobByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobRunning || j.Cursor < 250 || j.Cursor >= n {
		t.Fatalf("after the kill the job is %s at %d of %d", j.Status, j.Cursor, n)
	}
	// What was applied is whole steps: users, links and emails together.
	if u, l, m := testkit.Count(t, p, `SELECT COUNT(*) FROM users`), testkit.Count(t, p, `SELECT COUNT(*) FROM enrollment_links`),
		testkit.Count(t, p, `SELECT COUNT(*) FROM outbox`); u != j.Cursor || l != u || m != u {
		t.Fatalf("after the kill: %d users, %d links, %d emails, cursor %d", u, l, m, j.Cursor)
	}

	// The next start takes the dead process's job back at once and finishes it.
	again, j := testkit.FinishAfterRestart(t, p, id)
	if j.Status != store.JobDone || j.Cursor != n {
		t.Fatalf("after the restart: %+v", j)
	}
	if rep := bulk.ReportOf(j); rep != (bulk.Report{Created: n, Messages: n}) {
		t.Fatalf("report %+v", rep)
	}
	for what, query := range map[string]string{
		"users":                `SELECT COUNT(*) FROM users`,
		"links":                `SELECT COUNT(*) FROM enrollment_links`,
		"distinct link users":  `SELECT COUNT(DISTINCT user_id) FROM enrollment_links`,
		"emails":               `SELECT COUNT(*) FROM outbox`,
		"distinct recipients":  `SELECT COUNT(DISTINCT recipient) FROM outbox`,
		"user.created records": `SELECT COUNT(*) FROM audit_log WHERE action = 'user.created'`,
	} {
		if got := testkit.Count(t, again, query); got != n {
			t.Errorf("%s: %d, want %d", what, got, n)
		}
	}
	if got := testkit.Count(t, again, `SELECT COUNT(*) FROM audit_log WHERE action = 'bulk_enrollment.sent'`); got != 1 {
		t.Errorf("%d bulk_enrollment.sent records, want 1", got)
	}
}
