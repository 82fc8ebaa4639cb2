package admin_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

var mailedLinkRe = regexp.MustCompile(`http://localhost:\d+/enroll/[A-Za-z0-9_-]+`)

// TestBrowserAdminJourney walks the admin journey in Chromium, with axe-core
// on every page at phone and desktop widths: the owner claims the portal with
// the setup link and sets up TOTP, signs out and in again, adds a user and
// sends the enrollment email (delivered over SMTP to an in-process server),
// resends it (same link), the user enrolls with it; another user's pending
// enrollment is deleted and its link then gets the "no longer valid" page.
func TestBrowserAdminJourney(t *testing.T) {
	in := testkit.NewInbox(t)
	p := testkit.Serve(t, testkit.WithDelivery(in, nil))
	ctx := context.Background()
	deliver := func(want int) []testkit.Mail {
		t.Helper()
		if _, err := p.Notify.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := in.Messages()
		if len(got) != want {
			t.Fatalf("%d emails received, want %d", len(got), want)
		}
		return got
	}
	token, _, err := p.Admins.IssueSetupLink(ctx, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t, testkit.At(p.URL))

	// The owner claims the portal.
	b.Visit("/admin/setup/" + token)
	b.SendKeys("#email", "owner@example.org")
	b.SendKeys("#name", "Olive Owner")
	b.SendKeys("#password", "a long owner password")
	b.SendKeys("#password_again", "a long owner password")
	b.ClickAndWait("button[type=submit]")
	if got := b.Text("h1"); got != "Set up your second factor" {
		t.Fatalf("after setup: %q", got)
	}
	otpauth := testkit.QROnPage(t, b)
	secretText := strings.ReplaceAll(testkit.Eval[string](b, `document.querySelector(".secret").textContent`), " ", "")
	if !strings.Contains(otpauth, "secret="+secretText+"&") || !strings.Contains(otpauth, ":owner@example.org?") {
		t.Fatalf("QR %q does not hold the key shown %q", otpauth, secretText)
	}
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, p.Clock.Now())) // submits itself at six digits
	b.WaitVisible("dl.figures")
	if got := b.Text("h1"); got != "Dashboard" {
		t.Fatalf("after TOTP set-up: %q", got)
	}

	// Sign out, and in again with password and a fresh code.
	b.ClickAndWait(".signout button")
	b.WaitVisible("#password")
	b.SendKeys("#email", "owner@example.org")
	b.SendKeys("#password", "a long owner password")
	b.ClickAndWait("button[type=submit]")
	p.Clock.Advance(30 * time.Second)
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, p.Clock.Now())) // submits itself at six digits
	b.WaitVisible("dl.figures")

	// Add a user, then send the enrollment email.
	b.Visit("/admin/users/new")
	b.SendKeys("#username", "Jamie")
	b.SendKeys("#realname", "Jamie Doe")
	b.SendKeys("#email", "jamie@example.org")
	b.ClickAndWait(`form[action="/admin/users/new"] button[type=submit]`)
	if got := b.Text("h1"); got != "jamie" {
		t.Fatalf("after adding: %q", got)
	}
	b.ClickAndWait(`form[action$="/enrollment-email"] button`)
	if !strings.Contains(b.Text(".notice"), "jamie@example.org was queued") {
		t.Fatalf("notice %q", b.Text(".notice"))
	}
	mails := deliver(1)
	if mails[0].To[0] != "jamie@example.org" {
		t.Fatalf("sent to %v", mails[0].To)
	}
	link := mailedLinkRe.FindString(mails[0].Text)
	if link == "" {
		t.Fatalf("no link in the email:\n%s", mails[0].Text)
	}

	// Pending enrollments: resend sends the same link.
	b.Visit("/admin/enrollments")
	if !strings.Contains(b.Text("table"), "jamie@example.org") {
		t.Fatalf("pending list %q", b.Text("table"))
	}
	b.ClickAndWait(`form[action$="/resend"] button`)
	mails = deliver(2)
	if got := mailedLinkRe.FindString(mails[1].Text); got != link {
		t.Fatalf("resent link %q, first %q", got, link)
	}

	// Jamie enrolls with the emailed link (in the same browser, as a user
	// on a shared desk would).
	b.Visit(link)
	testkit.EnrollMobileByQR(t, b, "201 555 0199", "Apple iOS", p.Clock.Now())

	// The dashboard counts Jamie as enrolled; the pending list is empty.
	b.Visit("/admin")
	if got := b.Text("dl.figures"); !regexp.MustCompile(`(^|\s)Enrolled\s+1\s`).MatchString(got) {
		t.Fatalf("figures %q", got)
	}
	jamie, _ := p.Store.UserByUsername(ctx, "jamie")
	if f, _ := p.Enroll.FactorsOf(ctx, jamie.ID); !f.Any() {
		t.Fatal("jamie is not enrolled")
	}
	b.Visit("/admin/enrollments")
	if !strings.Contains(b.Text("main"), "There are no pending enrollments") {
		t.Fatalf("pending after use: %q", b.Text("main"))
	}

	// Another user's pending enrollment is deleted: the link stops working.
	if _, err := p.Users.Create(ctx, usersNew("kim", "kim@example.org"), audit.CLI()); err != nil {
		t.Fatal(err)
	}
	kimLink, err := p.Enroll.IssueLink(ctx, "kim", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b.Visit("/admin/enrollments")
	// Delete asks first: the list only links to the confirmation.
	if b.Count(`form[action$="/delete"]`) != 0 {
		t.Fatal("the pending list deletes without asking")
	}
	b.ClickAndWait(`a[href$="/delete"]`)
	if got := b.Text("h1"); got != "Delete the pending enrollment of kim?" {
		t.Fatalf("confirmation heading %q", got)
	}
	b.ClickAndWait(`form[action$="/delete"] button`)
	if !strings.Contains(b.Text(".notice"), "kim was deleted") {
		t.Fatalf("notice %q", b.Text(".notice"))
	}
	b.Visit(kimLink.URL)
	if got := b.Text("h1"); got != "This enrollment link is no longer valid" {
		t.Fatalf("deleted link shows %q", got)
	}
	if _, err := p.Store.UserByUsername(ctx, "kim"); err != nil {
		t.Fatalf("kim was deleted with the enrollment: %v", err)
	}

	// The remaining admin pages, for axe.
	for _, path := range []string{"/admin/users", "/admin/users?q=ja", "/admin/users/" + jamie.Key, "/admin/users/" + jamie.Key + "/edit",
		"/admin/users/" + jamie.Key + "/delete", "/admin/groups", "/admin/settings", "/admin/admins", "/admin/audit", "/admin/outbox"} {
		b.Visit(path)
	}
	b.Visit("/admin/groups")
	b.SendKeys("#name", "Engineering")
	b.ClickAndWait(`form[action="/admin/groups"] button`)
	if !strings.Contains(b.Text("table"), "Engineering") {
		t.Fatal("group not listed")
	}
	b.Visit("/admin/audit?actor=owner%40example.org")
	if !strings.Contains(b.Text("table"), "enrollment_email.queued") {
		t.Fatalf("audit lacks the send: %q", b.Text("table"))
	}
}

func usersNew(username, email string) users.NewUser {
	return users.NewUser{Username: username, Email: email}
}
