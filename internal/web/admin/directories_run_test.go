package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/directory"
	"enrollportal/internal/testkit"
)

// addCorpDirectory adds the page fixture's directory through the add form.
func addCorpDirectory(t *testing.T, c *testkit.Client, srv *testkit.Slapd, extra url.Values) {
	t.Helper()
	form := url.Values{"name": {"corp"}, "kind": {"openldap"}, "url": {srv.URL}, "bind_dn": {srv.RootDN}, "password": {srv.RootPW},
		"users_base": {"ou=people,dc=example,dc=org"}, "groups_base": {"ou=groups,dc=example,dc=org"}, "groups": {"staff"}}
	for k, v := range extra {
		form[k] = v
	}
	c.Get("/admin/directories")
	if r := c.Post("/admin/directories", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, r.Body)
	}
}

func progressOf(t *testing.T, c *testkit.Client) map[string]any {
	t.Helper()
	r := c.Get("/admin/directories/corp/progress")
	var out map[string]any
	if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(r.Body), &out) != nil {
		t.Fatalf("progress: %d %s", r.StatusCode, r.Body)
	}
	return out
}

// TestAdminDirectorySyncShowsLiveProgress holds a sync after it has
// compared the entries, and reads its progress from the JSON the page
// polls and from the page, while a second "Sync now" is refused.
func TestAdminDirectorySyncShowsLiveProgress(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	addCorpDirectory(t, c, srv, nil)
	if got := progressOf(t, c); got["status"] != "none" || got["running"] != false {
		t.Fatalf("before any run: %v", got)
	}

	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.Directories.AfterProgress = func(pr directory.Progress) {
		if pr.Compared > 0 && pr.Written == 0 {
			once.Do(func() {
				close(reached)
				<-release
			})
		}
	}
	if r := c.Post("/admin/directories/corp/sync", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync now: %d %s", r.StatusCode, r.Body)
	}
	<-reached
	got := progressOf(t, c)
	if got["status"] != "running" || got["running"] != true || got["text"] != "Read 2 entries, compared 2; writing: 0 of 2 users written." || got["to_write"] != float64(2) {
		t.Fatalf("progress while running: %v", got)
	}
	page := c.Get("/admin/directories/corp")
	if !strings.Contains(page.Body, "Sync running") || !strings.Contains(page.Body, `data-progress-url="/admin/directories/corp/progress"`) ||
		!strings.Contains(page.Body, "/assets/directory.") || !strings.Contains(page.Body, "writing: 0 of 2 users written") {
		t.Fatalf("page while running: %s", page.Body)
	}
	if r := c.Post("/admin/directories/corp/sync", nil); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "Another sync of this directory is running") {
		t.Fatalf("second sync while one runs: %d %s", r.StatusCode, r.Body)
	}
	close(release)
	p.Directories.Wait()
	got = progressOf(t, c)
	if got["status"] != "succeeded" || got["running"] != false || got["text"] != "Read 2 entries, compared 2, wrote 2 users." {
		t.Fatalf("progress after the run: %v", got)
	}
	page = c.Get("/admin/directories/corp")
	if strings.Contains(page.Body, "Sync running") || !strings.Contains(page.Body, "What the last sync did") || !regexp.MustCompile(`Users created: 2: (mia, noa|noa, mia)<`).MatchString(page.Body) {
		t.Fatalf("page after the run: %s", page.Body)
	}
	// The history has the run, with its counts and duration.
	if !strings.Contains(page.Body, "read 2, compared 2, written 2; created 2, updated 0") || !strings.Contains(page.Body, `<td data-label="Duration">0s</td>`) {
		t.Fatalf("history: %s", page.Body)
	}
	if r := c.Get("/admin/directories/nope/progress"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("progress of an unknown directory: %d", r.StatusCode)
	}
}

// TestAdminDirectorySyncSendsEnrollmentEmails turns on the enrollment
// emails: after the sync, the new user with an email gets one over SMTP
// (through the outbox and a bulk send job); the one without does not.
func TestAdminDirectorySyncSendsEnrollmentEmails(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	in := testkit.NewInbox(t)
	p := testkit.New(t, testkit.WithDelivery(in, nil))
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	addCorpDirectory(t, c, srv, url.Values{"enrollment_emails": {"1"}})
	if r := c.Get("/admin/directories/corp"); !strings.Contains(r.Body, "sent to each new user with an email") {
		t.Fatalf("setting not shown: %s", r.Body)
	}
	page := syncAndWait(t, p, c, nil)
	if !strings.Contains(page.Body, "Enrollment emails queued: 1") {
		t.Fatalf("page: %s", page.Body)
	}
	run, _, err := p.Directories.Latest(context.Background(), "corp")
	testkit.NoErr(t, err)
	if run.Figures.EnrollJob == 0 {
		t.Fatal("no enrollment job recorded")
	}
	if _, err := p.Jobs.Wait(context.Background(), run.Figures.EnrollJob, time.Minute); err != nil {
		t.Fatal(err)
	}
	deliver(t, p)
	msgs := in.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "mia@example.org" || !strings.Contains(msgs[0].Text, "/enroll/") {
		t.Fatalf("emails: %+v", msgs)
	}
	// A second sync creates nobody and sends nothing more.
	syncAndWait(t, p, c, nil)
	deliver(t, p)
	if in.Count() != 1 {
		t.Fatalf("%d emails after a sync that created nobody", in.Count())
	}
}

// TestAdminDirectoryScheduleSettingIsChecked refuses a schedule out of
// bounds by field, saving nothing, and shows a saved one.
func TestAdminDirectoryScheduleSettingIsChecked(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleOwner)
	c.Get("/admin/directories")
	for _, bad := range []string{"2", "often", "20000"} {
		form := url.Values{"name": {"corp"}, "kind": {"openldap"}, "url": {srv.URL}, "bind_dn": {srv.RootDN}, "password": {srv.RootPW},
			"users_base": {"ou=people,dc=example,dc=org"}, "schedule": {bad}}
		r := c.Post("/admin/directories", form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="schedule-error"`) || !strings.Contains(r.Body, `value="`+bad+`"`) {
			t.Fatalf("schedule %q: %d %s", bad, r.StatusCode, r.Body)
		}
	}
	if list, _ := p.Store.Directories(context.Background()); len(list) != 0 {
		t.Fatal("a refused schedule saved a directory")
	}
	addCorpDirectory(t, c, srv, url.Values{"schedule": {"60"}})
	if r := c.Get("/admin/directories/corp"); !strings.Contains(r.Body, "every 60 minutes") {
		t.Fatalf("schedule not shown: %s", r.Body)
	}
	if r := c.Get("/admin/directories"); !strings.Contains(r.Body, `<td data-label="Schedule">every 60 min</td>`) {
		t.Fatalf("schedule not in the list: %s", r.Body)
	}
}
