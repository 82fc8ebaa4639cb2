package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestAdminPendingShowsTheOutboxDeliveryState(t *testing.T) {
	p := testkit.New(t)
	frank := addUser(t, p, "frank", "frank@example.org", "Frank")
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	c.Get("/admin/users/" + frank.Key)
	if r := c.Post("/admin/users/"+frank.Key+"/enrollment-email", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", r.StatusCode)
	}
	if r := c.Get("/admin/enrollments"); !strings.Contains(r.Body, "queued, not sent yet") {
		t.Fatalf("a queued email is not shown as queued:\n%s", r.Body)
	}
	// The outbox delivered it (as a bulk send's worker does): the list says
	// sent, without anyone resending.
	if _, err := p.Store.SQL().Exec(`UPDATE outbox SET status = 'sent', sent_at = ? WHERE channel = 'email'`, p.Clock.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/admin/enrollments"); !strings.Contains(r.Body, "sent ") || strings.Contains(r.Body, "not sent") {
		t.Fatalf("a delivered email is not shown as sent:\n%s", r.Body)
	}
}

func TestAdminEnrollingByPhoneActivationEndsThePendingLink(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	dana := addUser(t, p, "dana", "dana@example.org", "Dana")
	if _, err := p.Enroll.IssueLink(ctx, "dana", 0, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	if r := c.Get("/admin/enrollments"); !strings.Contains(r.Body, "dana") {
		t.Fatal("dana is not pending")
	}

	// Dana activates a tablet through an activation link instead.
	ph, err := p.Enroll.AddPhone(ctx, dana, enroll.NewPhone{Type: store.PhoneTablet, Platform: store.PlatformAndroid}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	activate := "/admin/users/" + dana.Key + "/phones/" + ph.Key + "/activate"
	c.Get(activate)
	if r := c.Post(activate, url.Values{"via": {"email"}, "hours": {"24"}, "email_subject": {"Activate"}, "email_body": {"Open {acturl}"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send activation: %d %s", r.StatusCode, r.Body)
	}
	// While that activation link is live, Activate is not offered again.
	phones := c.Get("/admin/users/" + dana.Key + "/phones")
	if strings.Contains(phones.Body, `href="`+activate+`"`) {
		t.Fatalf("Activate offered while the activation link is live:\n%s", phones.Body)
	}
	m := activationLinkRe.FindStringSubmatch(phones.Body)
	if m == nil {
		t.Fatal("no activation link shown")
	}
	phone := testkit.NewClient(t, p)
	path := strings.TrimPrefix(m[1], "http://localhost")
	sec := activationSecretRe.FindStringSubmatch(phone.Get(path).Body)
	if sec == nil {
		t.Fatal("no secret on the activation page")
	}
	code := testkit.TOTPNow(t, "otpauth://totp/x?secret="+sec[1], p.Clock.Now())
	if r := phone.Post(path, url.Values{"code": {code}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: %d %s", r.StatusCode, r.Body)
	}

	// Enrolled: no longer pending, and "Resend all" does not email her.
	if _, err := p.Store.PendingLinkOfUser(ctx, dana.ID, p.Clock.Now()); err != store.ErrNotFound {
		t.Fatalf("dana's link is still pending: %v", err)
	}
	if r := c.Get("/admin/enrollments"); strings.Contains(r.Body, "dana@example.org") {
		t.Fatalf("an enrolled user is listed as pending:\n%s", r.Body)
	}
	before := countOutbox(t, p, "recipient = 'dana@example.org'")
	c.Post("/admin/enrollments/resend-all", nil)
	if after := countOutbox(t, p, "recipient = 'dana@example.org'"); after != before {
		t.Fatalf("resend all emailed an enrolled user: %d messages, were %d", after, before)
	}
}

func TestAdminDeletePendingEnrollmentAsksFirst(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	addUser(t, p, "kim", "kim@example.org", "Kim")
	l, err := p.Enroll.IssueLink(ctx, "kim", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	list := c.Get("/admin/enrollments")
	if strings.Contains(list.Body, `<form method="post" action="/admin/enrollments/`+itoa64(l.Link.ID)+`/delete"`) {
		t.Fatal("the list deletes with one click")
	}
	confirm := c.Get("/admin/enrollments/" + itoa64(l.Link.ID) + "/delete")
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, "Delete the pending enrollment of kim?") {
		t.Fatalf("confirmation: %d", confirm.StatusCode)
	}
	if _, err := p.Store.PendingLinkOfUser(ctx, l.Link.UserID, p.Clock.Now()); err != nil {
		t.Fatalf("showing the confirmation changed the link: %v", err)
	}
	if r := c.Post("/admin/enrollments/"+itoa64(l.Link.ID)+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := p.Store.PendingLinkOfUser(ctx, l.Link.UserID, p.Clock.Now()); err != store.ErrNotFound {
		t.Fatalf("still pending after delete: %v", err)
	}
}
