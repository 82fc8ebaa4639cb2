package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/org"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

func TestExpiredLinkOffersAFreshOneByEmailOncePerHour(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	p.Clock.Advance(enroll.LinkTTL + enroll.RenewInterval)
	c := testkit.NewClient(t, p)
	page := c.Get(link)
	wantStatus(t, page, http.StatusGone, "has expired", "Email me a new link", "a••••@example.com")
	if strings.Contains(page.Body, "alice@example.com") {
		t.Error("the expired page shows the whole email address")
	}

	wantStatus(t, c.Post(link+"/renew", nil), http.StatusOK, "Check your email")
	msgs := testkit.OutboxMessages(t, p)
	if len(msgs) != 1 || msgs[0].Recipient != "alice@example.com" {
		t.Fatalf("outbox: %+v", msgs)
	}
	fresh := regexp.MustCompile(`http://localhost:\d+(/enroll/[A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[0].BodyText)
	if fresh == nil || fresh[1] == link {
		t.Fatalf("no fresh link in the email:\n%s", msgs[0].BodyText)
	}
	wantStatus(t, testkit.NewClient(t, p).Get(fresh[1]), http.StatusOK, "Set up two-factor sign-in")

	// Asking again at once sends nothing more.
	wantStatus(t, c.Post(link+"/renew", nil), http.StatusTooManyRequests, "already sent you a new link")
	if n := len(testkit.OutboxMessages(t, p)); n != 1 {
		t.Fatalf("%d messages after a second request", n)
	}
	// Without the CSRF token nothing happens either.
	wantStatus(t, c.Post(link+"/renew", map[string][]string{"csrf_token": {""}}), http.StatusForbidden)
}

func TestExpiredLinkOfferRespectsTheSettingAndNeedsAnEmail(t *testing.T) {
	ctx := context.Background()
	p := testkit.Serve(t)
	link := newLink(t, p)
	p.Users.Create(ctx, users.NewUser{Username: "noemail"}, audit.CLI())
	l, _ := p.Enroll.IssueLink(ctx, "noemail", 0, audit.CLI())
	p.Clock.Advance(enroll.LinkTTL)
	c := testkit.NewClient(t, p)
	c.Get(link) // a page with a form, for the CSRF token

	r := c.Get(strings.TrimPrefix(l.URL, p.URL))
	wantStatus(t, r, http.StatusGone, "Ask your help desk")
	if strings.Contains(r.Body, "Email me a new link") {
		t.Error("offered to email a user without an address")
	}
	wantStatus(t, c.Post(strings.TrimPrefix(l.URL, p.URL)+"/renew", nil), http.StatusGone, "cannot be sent")

	off := false
	p.SaveSettings(t, org.Change{SelfRenew: &off})
	if strings.Contains(c.Get(link).Body, "Email me a new link") {
		t.Error("offered a new link with the setting off")
	}
	wantStatus(t, c.Post(link+"/renew", nil), http.StatusGone)
	if n := len(testkit.OutboxMessages(t, p)); n != 0 {
		t.Fatalf("%d messages written", n)
	}
}
