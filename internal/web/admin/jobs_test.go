package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunWorkerChildIfAsked()
	os.Exit(m.Run())
}

// TestAdminJobPageShowsProgressOfASendCutOffByACrash sends 300 users from
// the bulk page; the send goes on in the background (here: a child process
// that is killed with SIGKILL after 100 users). The job's page shows the
// progress as the database has it, to every admin role, until the next
// start finishes the send; then it says what was done.
func TestAdminJobPageShowsProgressOfASendCutOffByACrash(t *testing.T) {
	p := testkit.New(t)
	p.StopJobRunner() // the child process runs the job
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	var paste strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&paste, "job%03d,job%03d@example.com\n", i, i)
	}
	r := c.Post("/admin/bulk/send", url.Values{"paste": {paste.String()}, "subject": {"Enroll"}, "body": {"Go to {link}"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/jobs/1" {
		t.Fatalf("send: %d %s, want the job's page", r.StatusCode, r.Location())
	}
	testkit.StartWorkerChild(t, p, 100).WaitKilled(t)

	reader, _ := p.SignInAs(t, admin.RoleReadOnly)
	for _, who := range []*testkit.Client{c, reader} {
		r := who.Get("/admin/jobs/1")
		for _, want := range []string{"Bulk enrollment of 300 users", "Running", "100 of 300 lines (33%)",
			`<progress max="300" value="100"`, "So far: 100 new users created", `href="/admin/jobs/1">Refresh`} {
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, want) {
				t.Errorf("job page (%d) lacks %q", r.StatusCode, want)
			}
		}
	}
	if r := reader.Get("/admin/jobs"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "100 of 300 (33%)") {
		t.Errorf("jobs list: %d", r.StatusCode)
	}

	if _, j := testkit.FinishAfterRestart(t, p, 1); j.Status != store.JobDone {
		t.Fatalf("after the restart: %+v", j)
	}
	r = c.Get("/admin/jobs/1")
	for _, want := range []string{"Done", "300 of 300 lines (100%)", "300 new users created, 0 existing users sent a fresh link; 300 enrollment emails queued."} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("finished job page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "Refresh") {
		t.Error("a finished job still offers to refresh")
	}
	if r := c.Get("/admin/jobs/99"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown job: %d", r.StatusCode)
	}
}
