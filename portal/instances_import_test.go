package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// answeredBy sends one request through the proxy and tells which instance
// answered it.
func (c *cluster) answeredBy(t *testing.T, send func() testkit.Response) (testkit.Response, string) {
	t.Helper()
	before := c.Proxy.Hits()
	r := send()
	for backend, n := range c.Proxy.Hits() {
		if n == before[backend]+1 {
			return r, backend
		}
	}
	t.Fatalf("no instance answered the request (hits %v)", c.Proxy.Hits())
	return r, ""
}

// uploadImport posts a CSV file to the import's check page, as the page's
// form does.
func uploadImport(cl *testkit.Client, name, csv string) testkit.Response {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf_token", cl.CSRF())
	w.WriteField("mode", "upsert")
	fw, _ := w.CreateFormFile("file", name)
	fw.Write([]byte(csv))
	w.Close()
	return cl.Send(http.MethodPost, "/admin/import/preview", &buf, w.FormDataContentType())
}

// A file checked through one instance is applied through the other (no
// sticky sessions), each instance with its key file on its own disk as on
// separate machines: the plan waits in the database, so the apply finds it,
// the import job runs on whichever instance's job runner claims it, and the
// users appear; the plan's rows are gone afterwards.
func TestTwoInstancesImportCheckedByOneAppliedByTheOther(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2, withKeyPerInstance())
	ctx := context.Background()
	admin := c.signInAdmin(t)
	admin.Get("/admin/import")
	const n = 600 // more than two steps of the job
	var csv strings.Builder
	csv.WriteString("username,email,group1\n")
	for i := range n {
		fmt.Fprintf(&csv, "member%04d,member%04d@example.org,Imported\n", i, i)
	}

	r, checkedBy := c.answeredBy(t, func() testkit.Response { return uploadImport(admin, "members.csv", csv.String()) })
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf("Import %d users", n)) {
		t.Fatalf("check: %d\n%s", r.StatusCode, r.Body)
	}
	if got := testkit.Got(c.Handle.Store.CountUsers(ctx)).Must(t); got != 0 {
		t.Fatalf("the check created %d users", got)
	}
	r, appliedBy := c.answeredBy(t, func() testkit.Response { return admin.Post("/admin/import/apply", nil) })
	if appliedBy == checkedBy {
		t.Fatalf("the proxy sent the check and the apply to the same instance %s", checkedBy)
	}
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply through the other instance: %d\n%s", r.StatusCode, r.Body)
	}

	var job store.Job
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		jobs := testkit.Got(c.Handle.Store.RecentJobs(ctx, 5)).Must(t)
		if len(jobs) != 1 {
			t.Fatalf("%d jobs after one apply: %+v", len(jobs), jobs)
		}
		// The plan's rows go after the job's last step is saved.
		if job = jobs[0]; job.Status != store.JobRunning && testkit.Count(t, c.Handle, `SELECT COUNT(*) FROM import_plans`) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the apply the import is %s at %d of %d", job.Status, job.Cursor, job.Total)
		}
	}
	if job.Status != store.JobDone || job.Cursor != n || len(job.Skipped) != 0 {
		t.Fatalf("import job %+v", job)
	}
	if got := testkit.Got(c.Handle.Store.CountUsers(ctx)).Must(t); got != n {
		t.Fatalf("%d users after the import, want %d", got, n)
	}
	if got := testkit.Count(t, c.Handle, `SELECT COUNT(*) FROM user_groups`); got != n {
		t.Fatalf("%d group memberships, want %d", got, n)
	}
	if got := testkit.Count(t, c.Handle, `SELECT COUNT(*) FROM import_plan_chunks`); got != 0 {
		t.Fatalf("%d plan chunks kept after the import", got)
	}
	if r := admin.Get("/admin/jobs/" + fmt.Sprint(job.ID)); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf("%d users created", n)) {
		t.Fatalf("the job's page: %d\n%s", r.StatusCode, r.Body)
	}
	ranBy := []string{}
	for i, p := range c.procs {
		if strings.Contains(c.Logs(i), fmt.Sprintf(`"msg":"jobs: running","job":%d`, job.ID)) {
			ranBy = append(ranBy, p.addr)
		}
	}
	t.Logf("checked by %s, applied through %s, job run by %v", checkedBy, appliedBy, ranBy)
}
