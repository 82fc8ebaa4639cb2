package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// TestPortalEmailsAWorkingEnrollmentLink goes the way an admin action does:
// issue a link and enqueue its email in one transaction, let the portal's
// worker deliver it over SMTP, and open the link from the received email.
func TestPortalEmailsAWorkingEnrollmentLink(t *testing.T) {
	smtpURL, received := notify.StartMailServer(t)
	p := testkit.New(t, func(s *config.Settings) { s.SMTPURL, s.MailFrom = smtpURL, "Example Org <portal@example.org>" })
	ctx := context.Background()
	if _, err := p.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com", RealName: "Alice Liddell"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	err := p.Store.InTx(ctx, func(q store.Queries) error {
		u, err := q.UserByUsername(ctx, "alice")
		if err != nil {
			return err
		}
		issued, err := p.Enroll.IssueLinkTx(ctx, q, u, 0, audit.CLI())
		if err != nil {
			return err
		}
		org, err := p.Notify.Org(ctx, q)
		if err != nil {
			return err
		}
		m := notify.EnrollmentEmail(org, u, issued.URL, issued.Link.ExpiresAt, nil)
		m.IntentKey = notify.EnrollLinkIntent(issued.Link.ID, 1)
		_, err = notify.Enqueue(ctx, q, m, p.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Notify.Run(runCtx); close(done) }()
	p.Notify.Wake()
	for deadline := time.Now().Add(10 * time.Second); len(received()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	msgs := received()
	if len(msgs) != 1 {
		t.Fatalf("received %d emails, want 1", len(msgs))
	}
	text, html, subject := notify.ParseMail(t, msgs[0])
	if subject != "Set up two-factor sign-in for Example Org" {
		t.Errorf("subject = %q", subject)
	}
	if !strings.Contains(text, "automated message from the Example Org enrollment portal") || !strings.Contains(text, "Hello Alice Liddell,") {
		t.Errorf("text part:\n%s", text)
	}
	link := regexp.MustCompile(`http://localhost/enroll/[A-Za-z0-9_-]+`).FindString(text)
	if link == "" || !strings.Contains(html, `<a href="`+link+`">`) {
		t.Fatalf("no enrollment link in the email:\n%s\n%s", text, html)
	}
	rec := httptest.NewRecorder()
	p.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, strings.TrimPrefix(link, "http://localhost"), nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Example Org") {
		t.Errorf("opening the emailed link: %d\n%s", rec.Code, rec.Body.String())
	}
	if c := testkit.Got(p.Store.CountMessagesByStatus(ctx)).Must(t); c[store.MessageSent] != 1 {
		t.Errorf("outbox = %v", c)
	}
	if !strings.Contains(p.Logs.String(), "outbox: delivering email messages") || !strings.Contains(p.Logs.String(), "no SMS gateway configured") {
		t.Errorf("start log lines missing:\n%s", p.Logs.String())
	}
}

func TestPortalRefusesToStartWithABadSMTPURL(t *testing.T) {
	// A typo in the settings stops the start instead of failing every send.
	for _, set := range []func(*config.Settings){
		func(s *config.Settings) { s.SMTPURL, s.MailFrom = "smtp//mail.example", "portal@example.org" },
		func(s *config.Settings) { s.SMTPURL = "smtp://mail.example:587" }, // no sender
		func(s *config.Settings) { s.SMSURL = "twilio://nosid@15551234567" },
	} {
		s := config.Settings{}
		set(&s)
		if _, err := notify.New(notify.Options{SMTPURL: s.SMTPURL, MailFrom: s.MailFrom, SMSURL: s.SMSURL}); err == nil {
			t.Errorf("settings %+v accepted", s)
		}
	}
}
