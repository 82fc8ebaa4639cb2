package admin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/directory"
	"enrollportal/internal/testkit"
)

// waitForText polls the page until sel's text contains want, reading
// from the test (the page keeps running its own script meanwhile).
func waitForText(t *testing.T, b *testkit.Browser, sel, want string) {
	t.Helper()
	for range 300 {
		if strings.Contains(testkit.Eval[string](b, `(document.querySelector(`+"`"+sel+"`"+`) || {}).textContent || ""`), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never said %q; it says %q", sel, want, b.Text(sel))
}

// TestBrowserAdminDirectoryJourneySyncProgressEmailsEnroll is journey 4
// on the pages, in Chromium with axe-core at phone and desktop widths: a
// User Manager adds an OpenLDAP directory (a real slapd) with enrollment
// emails on, tests it, picks its group from the list read from the
// directory, previews, syncs with the progress following the run without
// a reload; the enrollment email arrives over SMTP and the synced user
// enrolls from its link.
func TestBrowserAdminDirectoryJourneySyncProgressEmailsEnroll(t *testing.T) {
	srv := testkit.StartSlapd(t, directoryPageFixture)
	in := testkit.NewInbox(t)
	p := testkit.Serve(t, testkit.WithDelivery(in, nil))
	ctx := context.Background()
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)

	fillDirectoryAddForm(b, srv, srv.URL, srv.RootPW)
	b.Click("#enrollment_emails")
	b.ClickAndWait("button[name=action][value=add]")
	b.WaitLocation("/admin/directories/corp")
	b.ClickAndWait(`form[action="/admin/directories/corp/test"] button`)
	if got := b.Text("[role=status]"); !strings.Contains(got, "2 users and 1 group") {
		t.Fatalf("test connection %q", got)
	}

	// The groups to sync, ticked from the list the directory gives.
	b.ClickAndWait(`a[href="/admin/directories/corp/edit"]`)
	b.ClickAndWait(`button[name=action][value=groups]`)
	if got := b.Text("#group-picker"); !strings.Contains(got, "staff") {
		t.Fatalf("picker %q", got)
	}
	b.Click(`input[name=group][value=staff]`)
	b.ClickAndWait(`button[name=action][value=save]`)
	b.WaitLocation("/admin/directories/corp")
	if got := b.Text("main"); !strings.Contains(got, "The settings of corp were saved") || !strings.Contains(got, "Groups to sync\nstaff") {
		t.Fatalf("after the edit %q", got)
	}

	b.ClickAndWait(`form[action="/admin/directories/corp/preview"] button`)
	if got := b.Text("main"); !strings.Contains(got, "Users created: 2") || !strings.Contains(got, "nothing was changed") {
		t.Fatalf("preview %q", got)
	}

	// The run is held twice, after reading and after comparing, so that
	// the page is seen following it.
	holds := []chan struct{}{make(chan struct{}), make(chan struct{})}
	reached := []chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	p.Directories.AfterProgress = func(pr directory.Progress) {
		stage := -1
		switch {
		case pr.Compared == 0 && pr.Read > 0:
			stage = 0
		case pr.Compared > 0 && pr.Written == 0:
			stage = 1
		}
		if stage >= 0 {
			once[stage].Do(func() {
				close(reached[stage])
				<-holds[stage]
			})
		}
	}
	b.ClickAndWait(`form[action="/admin/directories/corp/sync"]:not(:has(input[name=full])) button`)
	<-reached[0]
	b.WaitVisible("#sync-progress")
	waitForText(t, b, "#sync-progress-text", "Reading the directory: 2 entries read so far.")
	testkit.Eval[bool](b, `window.samePage = true`)
	close(holds[0])
	<-reached[1]
	waitForText(t, b, "#sync-progress-text", "Read 2 entries, compared 2; writing: 0 of 2 users written.")
	if !testkit.Eval[bool](b, `window.samePage === true`) {
		t.Fatal("the page reloaded to show the progress")
	}
	close(holds[1])
	// At the end the script reloads the page to show what the run did.
	b.WaitVisible("#last-sync")
	if got := b.Text("main"); !strings.Contains(got, "Users created: 2") || !strings.Contains(got, "Enrollment emails queued: 1") || !strings.Contains(got, "succeeded") {
		t.Fatalf("after the sync %q", got)
	}
	p.Directories.Wait()

	// The enrollment email arrives over SMTP; mia enrolls from its link.
	run, _, err := p.Directories.Latest(ctx, "corp")
	testkit.NoErr(t, err)
	if _, err := p.Jobs.Wait(ctx, run.Figures.EnrollJob, time.Minute); err != nil {
		t.Fatal(err)
	}
	deliver(t, p)
	mails := in.Messages()
	if len(mails) != 1 || mails[0].To[0] != "mia@example.org" {
		t.Fatalf("emails: %+v", mails)
	}
	link := mailedLinkRe.FindString(mails[0].Text)
	if link == "" {
		t.Fatalf("no link in the email:\n%s", mails[0].Text)
	}
	phone := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	phone.Visit(link)
	testkit.EnrollMobileByQR(t, phone, "201 555 0199", "Apple iOS", p.Clock.Now())
	mia, err := p.Store.UserByUsername(ctx, "mia")
	testkit.NoErr(t, err)
	if f, _ := p.Enroll.FactorsOf(ctx, mia.ID); !f.Any() {
		t.Fatal("mia is not enrolled")
	}
}
