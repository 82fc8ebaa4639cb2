package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

func TestAdminEnrollmentProgressCountsAndSends(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	// nina (not enrolled, no address), erin (enrolled, in staff), dan
	// (disabled) and paula (not enrolled, with an address).
	dan := addUser(t, f.p, "dan", "dan@example.org", "")
	if err := f.p.Store.SetUserStatus(ctx, dan.ID, store.StatusDisabled, false, f.p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	addUser(t, f.p, "paula", "paula@example.org", "")

	c, _ := f.p.SignInAs(t, admin.RoleUserManager)
	r := c.Get("/admin/enrollment-progress")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `<td data-label="Users">4</td>`) {
		t.Fatalf("progress: %d\n%s", r.StatusCode, r.Body)
	}
	csv := c.Get("/admin/enrollment-progress.csv")
	for _, want := range []string{"all,,4,1,2,0,0,1\n", "group,staff,1,1,0,0,0,0\n", "application,VPN,4,1,2,0,0,1\n"} {
		if !strings.Contains(csv.Body, want) {
			t.Fatalf("CSV lacks %q:\n%s", want, csv.Body)
		}
	}
	left := c.Get("/admin/enrollment-progress/users?application=" + f.app.Key)
	if left.StatusCode != http.StatusOK || !strings.Contains(left.Body, "nina") || !strings.Contains(left.Body, "paula") || strings.Contains(left.Body, ">erin<") ||
		!strings.Contains(left.Body, "1 of them has no email address") {
		t.Fatalf("left to enroll: %d\n%s", left.StatusCode, left.Body)
	}
	r = c.Post("/admin/enrollment-progress/send", url.Values{"application": {f.app.Key}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d\n%s", r.StatusCode, r.Body)
	}
	msgs, _, err := f.p.Store.ListMessages(ctx, store.MessageFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Recipient != "paula@example.org" {
		t.Fatalf("outbox %+v", msgs)
	}
	if r := c.Get("/admin/enrollment-progress/users?group=DGNOSUCH"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown group: %d", r.StatusCode)
	}
	ro, _ := f.p.SignInAs(t, admin.RoleReadOnly)
	if page := ro.Get("/admin/enrollment-progress/users"); page.StatusCode != http.StatusOK || strings.Contains(page.Body, "Send enrollment emails") {
		t.Fatalf("read-only: %d", page.StatusCode)
	}
}

func TestAdminDashboardDrawsTheRollout(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	start := f.p.Clock.Now()
	// erin (in staff) enrolled two days ago, nina yesterday (twice: only
	// the first counts).
	for _, a := range []struct {
		user string
		days int
	}{{"erin", -2}, {"nina", -1}, {"nina", 0}} {
		e := audit.Entry(start.AddDate(0, 0, a.days), audit.CLI(), audit.PhoneActivated, audit.TargetUser, a.user, nil)
		if err := f.p.Store.InsertAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := f.p.SignInAs(t, admin.RoleReadOnly)
	r := c.Get("/admin")
	day := func(offset int) string { return start.AddDate(0, 0, offset).Format("2 Jan 2006") }
	for _, want := range []string{
		"<tr><th scope=\"row\">" + day(-2) + "</th><td>1</td></tr>",
		"<tr><th scope=\"row\">" + day(-1) + "</th><td>2</td></tr>",
		"<tr><th scope=\"row\">" + day(0) + "</th><td>2</td></tr>",
		`<polyline points="48.0,94.0 320.0,12.0 592.0,12.0"`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Fatalf("dashboard lacks %q:\n%s", want, r.Body)
		}
	}
	r = c.Get("/admin?group=" + f.staff.Key)
	if !strings.Contains(r.Body, "Enrolled users over time: staff") || !strings.Contains(r.Body, "<tr><th scope=\"row\">"+day(0)+"</th><td>1</td></tr>") {
		t.Fatalf("group rollout:\n%s", r.Body)
	}
}
