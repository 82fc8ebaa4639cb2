package importer_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"enrollportal/internal/importer"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunWorkerChildIfAsked()
	os.Exit(m.Run())
}

// TestApplyKilledPartWayFinishesExactlyOnceOnRestart kills (SIGKILL) the
// process applying an import of 2,000 users (with shared phones and
// groups) after its second step, then starts the portal again: the import
// goes on from the first line not applied, and ends with every user, phone,
// link and membership exactly once.
func TestApplyKilledPartWayFinishesExactlyOnceOnRestart(t *testing.T) {
	p, svc := newImporter(t)
	p.StopJobRunner() // the child process runs the job
	ctx := context.Background()
	const n = 2000
	var b strings.Builder
	b.WriteString("username,phone1,platform1,group1\n")
	for i := 0; i < n; i++ {
		// Two users per number, so phones are shared across steps too.
		fmt.Fprintf(&b, "user%04d,+1 201 555 %04d,android,G%d\n", i, i/2, i%3)
	}
	plan, sum, err := svc.Check(ctx, strings.NewReader(b.String()), importer.ModeUpsert)
	if err != nil || sum.ErrorCount != 0 {
		t.Fatalf("check %+v %v", sum, err)
	}
	id, err := svc.StartApply(ctx, plan, "users.csv", admin)
	if err != nil {
		t.Fatal(err)
	}
	testkit.StartWorkerChild(t, p, 500).WaitKilled(t)

	j, err := p.Store.JobByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobRunning || j.Cursor < 500 || j.Cursor >= n {
		t.Fatalf("after the kill the job is %s at %d of %d", j.Status, j.Cursor, n)
	}
	if got := testkit.Count(t, p, `SELECT COUNT(*) FROM users`); got != j.Cursor {
		t.Fatalf("after the kill: %d users for a cursor at %d", got, j.Cursor)
	}

	again, j := testkit.FinishAfterRestart(t, p, id)
	if j.Status != store.JobDone || j.Cursor != n {
		t.Fatalf("after the restart: %+v", j)
	}
	sum = importer.SummaryOf(j)
	if sum.Create != n || sum.NewPhones != n/2 || len(sum.Skipped) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	for what, c := range map[string]struct {
		query string
		want  int
	}{
		"users":                {`SELECT COUNT(*) FROM users`, n},
		"phones":               {`SELECT COUNT(*) FROM phones`, n / 2},
		"distinct numbers":     {`SELECT COUNT(DISTINCT number) FROM phones`, n / 2},
		"phone links":          {`SELECT COUNT(*) FROM user_phones`, n},
		"groups":               {`SELECT COUNT(*) FROM groups`, 3},
		"memberships":          {`SELECT COUNT(*) FROM user_groups`, n},
		"user.created records": {`SELECT COUNT(*) FROM audit_log WHERE action = 'user.created'`, n},
		"import.applied":       {`SELECT COUNT(*) FROM audit_log WHERE action = 'import.applied'`, 1},
	} {
		if got := testkit.Count(t, again, c.query); got != c.want {
			t.Errorf("%s: %d, want %d", what, got, c.want)
		}
	}
	if n := planRows(t, again); n != 0 {
		t.Errorf("%d plan rows kept after the import", n)
	}
}
