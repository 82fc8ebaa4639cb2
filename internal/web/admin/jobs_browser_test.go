package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestBrowserAdminJobPagesInEveryState visits the jobs list and a job's page
// in a browser, checked by axe-core at phone and desktop widths, in each
// state a job can be in: running (a bulk send of 300 users that goes on in
// the background), failed with lines skipped, and done.
func TestBrowserAdminJobPagesInEveryState(t *testing.T) {
	p := testkit.Serve(t)
	p.StopJobRunner() // the send stays running until Finish below
	ctx := context.Background()
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)

	b.ClickAndWait(`a[href="/admin/bulk"]`)
	var paste strings.Builder
	paste.WriteString("username,email\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&paste, "job%03d,job%03d@example.com\n", i, i)
	}
	b.SetValue("#paste", paste.String())
	b.ClickAndWait("main button[type=submit]")
	b.ClickAndWait("main form button[type=submit]")
	// Not done within the page's wait: the admin lands on its progress.
	b.WaitLocation("/admin/jobs/1")
	if got := b.Text("h1"); got != "Bulk enrollment of 300 users" {
		t.Fatalf("job page heading %q", got)
	}
	if got := b.Text("dl.summary"); !strings.Contains(got, "Running") || !strings.Contains(got, "0 of 300 lines (0%)") {
		t.Fatalf("running job summary %q", got)
	}
	if b.Count(`progress[max="300"]`) != 1 || b.Count(`a[href="/admin/jobs/1"]`) != 1 {
		t.Fatal("a running job shows no progress bar or no refresh link")
	}

	// A failed import with skipped lines: the alert and the skipped table.
	failed := store.Job{Kind: "import_apply", Status: store.JobRunning, Title: "Import of users.csv", Total: 40, Payload: []byte(`{}`),
		CreatedBy: "owner@example.com", CreatedAt: p.Clock.Now(), UpdatedAt: p.Clock.Now()}
	if err := p.Store.CreateJob(ctx, &failed); err != nil {
		t.Fatal(err)
	}
	now := p.Clock.Now()
	held, err := p.Store.ClaimJob(ctx, failed.ID, "browser-test", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	held.Status, held.Cursor, held.FinishedAt, held.LeaseUntil = store.JobFailed, 12, &now, nil
	held.LastError = "disk full"
	held.Skipped = []store.SkippedRow{{Line: 7, Reason: "the username is taken by a user added since the check"}}
	if ok, err := p.Store.SaveJob(ctx, held); err != nil || !ok {
		t.Fatalf("save the failed job: %v %v", ok, err)
	}

	b.ClickAndWait(`a[href="/admin/jobs"]`)
	list := b.Text("table")
	for _, want := range []string{"Bulk enrollment of 300 users", "0 of 300 (0%)", "Import of users.csv", "12 of 40 (30%)"} {
		if !strings.Contains(list, want) {
			t.Errorf("jobs list lacks %q: %q", want, list)
		}
	}
	b.ClickAndWait(fmt.Sprintf(`a[href="/admin/jobs/%d"]`, failed.ID))
	if got := b.Text(`[role=alert]`); !strings.Contains(got, "stopped on an error after 12 of 40 lines") {
		t.Errorf("failed job alert %q", got)
	}
	if got := b.Text(`[aria-label="Lines skipped"]`); !strings.Contains(got, "7") || !strings.Contains(got, "taken") {
		t.Errorf("skipped lines %q", got)
	}
	if strings.Contains(b.Text("main"), "disk full") {
		t.Error("the cause of the failure is shown to the admin; it belongs in the log")
	}

	// The send, finished: done, with what it did and no refresh link.
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if j, err := p.Jobs.Finish(fctx, 1); err != nil || j.Status != store.JobDone {
		t.Fatalf("finish the send: %+v %v", j, err)
	}
	b.Visit("/admin/jobs/1")
	if got := b.Text("dl.summary"); !strings.Contains(got, "Done") || !strings.Contains(got, "300 of 300 lines (100%)") {
		t.Fatalf("finished job summary %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "300 new users created") || strings.Contains(got, "Refresh") {
		t.Errorf("finished job page %q", got)
	}
}
