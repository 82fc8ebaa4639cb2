package web_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

// TestBrowserDevicesProofBySecurityKey signs in to the device page with
// the security key a user enrolled (the DevTools virtual authenticator),
// on a phone-sized screen: no code is typed, and the page then lists the
// key, which a wrong username's proof could never reach.
func TestBrowserDevicesProofBySecurityKey(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	auth := b.AddVirtualAuthenticator()

	b.Visit(link)
	testkit.EnrollSecurityKey(t, b)
	if creds := b.Credentials(auth); len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials after enrolling", len(creds))
	}

	b.Visit("/my-devices")
	b.SendKeys("#username", "alice")
	b.Submit("#username")
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("proof step heading %q", got)
	}
	b.WaitVisible("#key-start")
	b.Click("#key-start")
	b.WaitLocation("/my-devices")
	b.WaitVisible("ul.devices")
	if got := b.Text("h1"); got != "Your devices" {
		t.Fatalf("after the key proof the page shows %q", got)
	}
	if list := b.Text("ul.devices"); !strings.Contains(list, "Security key") {
		t.Fatalf("the device page lists %q, want the security key", list)
	}

	wantKeyProofOnRecord(t, p, "alice")
}

// TestBrowserEnrollLinkProofBySecurityKey opens a second enrollment link
// of a user whose device is a security key (the DevTools virtual
// authenticator), on a phone-sized screen: the link asks for proof first,
// the key gives it without a typed code, and the link then offers its
// steps.
func TestBrowserEnrollLinkProofBySecurityKey(t *testing.T) {
	p := testkit.Serve(t)
	first := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.AddVirtualAuthenticator()
	b.Visit(first)
	testkit.EnrollSecurityKey(t, b)

	second := testkit.Got(p.Enroll.IssueLink(context.Background(), "alice", 0, audit.CLI())).Must(t)
	b.Visit(strings.TrimPrefix(second.URL, p.URL))
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("heading %q, want the proof step", got)
	}
	b.WaitVisible("#key-start")
	b.Click("#key-start")
	// The proof's page has no method to choose; the link's first step has.
	b.WaitVisible(`input[name="method"]`)
	b.CheckAccessibility()
	if got := b.Text("h1"); got == "Confirm it's you" {
		t.Fatalf("after the key proof the link still asks for proof")
	}
	wantKeyProofOnRecord(t, p, "alice")
}

// wantKeyProofOnRecord fails unless username's audit has a factor.proved
// record naming the security key.
func wantKeyProofOnRecord(t *testing.T, p *testkit.Portal, username string) {
	t.Helper()
	proved := testkit.Got(p.Store.AuditForTarget(context.Background(), audit.TargetUser, username, 100)).Must(t)
	for _, e := range proved {
		if e.Action == audit.FactorProved && strings.Contains(e.Details, `"factor":"webauthn`) {
			return
		}
	}
	t.Fatalf("no factor.proved record naming the security key: %+v", proved)
}
