package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// Journey 1 in Chromium through the proxy, so that the pages and their
// forms reach alternating instances: a phone enrolled by scanning the QR
// code; then one instance is killed, and a security key is added on the
// same link through the other.
func TestTwoInstancesBrowserEnrollPhoneByQRThenSecurityKey(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2)
	ctx := context.Background()
	if _, err := c.Handle.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	link, err := c.Handle.Enroll.IssueLink(ctx, "alice", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t, testkit.At(c.URL), testkit.AcceptTestCertificates(), testkit.WithViewport(testkit.Phone))
	key := b.AddVirtualAuthenticator()

	b.Visit(link.URL)
	testkit.EnrollMobileByQR(t, b, "201 555 0123", "Google Android", time.Now())
	if list := b.Text("ul.factors"); !strings.Contains(list, "Mobile phone") {
		t.Fatalf("after the phone the list says %q", list)
	}

	// One instance dies (SIGKILL) mid-way; the proxy sends everything to
	// the other from now on. Proving the phone granted this browser, in its
	// session cookie, more devices on the link: the survivor honours it, so
	// no code is asked for again.
	c.wantBothServed(t)
	c.Kill(t, 0)
	b.ClickAndWait(`a[href$="/choose"]`)
	if got := b.Text("h1"); got == "Confirm it's you" {
		t.Fatal("the next instance asked again for a code the session had proved")
	}
	testkit.EnrollSecurityKey(t, b)
	if list := b.Text("ul.factors"); !strings.Contains(list, "Mobile phone") || !strings.Contains(list, "Security key") {
		t.Fatalf("after the key the list says %q", list)
	}
	if creds := b.Credentials(key); len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials", len(creds))
	}
	u, err := c.Handle.Store.UserByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Handle.Enroll.FactorsOf(ctx, u.ID)
	if err != nil || len(f.Phones) != 1 || f.Phones[0].Platform != store.PlatformAndroid || len(f.SecurityKeys) != 1 {
		t.Fatalf("stored factors: %+v %v", f, err)
	}
}
