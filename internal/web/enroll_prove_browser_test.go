package web_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

// TestBrowserEnrollLinkProofBySecurityKey opens a second enrollment link
// of a user whose device is a security key (the DevTools virtual
// authenticator), on a phone-sized screen: the link asks for proof first,
// the key gives it without a typed code, the link then offers its steps,
// and the proof is on record with its factor.
func TestBrowserEnrollLinkProofBySecurityKey(t *testing.T) {
	p := testkit.Serve(t)
	first := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.AddVirtualAuthenticator()

	b.Visit(first)
	b.Click(`input[value="security_key"]`)
	b.ClickAndWait("button[type=submit]")
	b.WaitVisible("#key-register:not([disabled])")
	b.Click("#key-register")
	b.WaitVisible("ul.factors")

	second := testkit.Got(p.Enroll.IssueLink(context.Background(), "alice", 0, audit.CLI())).Must(t)
	path := strings.TrimPrefix(second.URL, p.URL)
	b.Visit(path)
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

	proved := testkit.Got(p.Store.AuditForTarget(context.Background(), audit.TargetUser, "alice", 100)).Must(t)
	found := false
	for _, e := range proved {
		found = found || (e.Action == audit.FactorProved && strings.Contains(e.Details, `"factor":"webauthn`))
	}
	if !found {
		t.Fatalf("no factor.proved record naming the security key: %+v", proved)
	}
}
