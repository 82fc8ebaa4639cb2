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
	b.Click(`input[value="security_key"]`)
	b.ClickAndWait("button[type=submit]")
	b.WaitVisible("#key-register:not([disabled])")
	b.Click("#key-register")
	b.WaitVisible("ul.factors")
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

	// The proof is on record with its factor.
	proved := testkit.Got(p.Store.AuditForTarget(context.Background(), audit.TargetUser, "alice", 100)).Must(t)
	found := false
	for _, e := range proved {
		found = found || (e.Action == audit.FactorProved && strings.Contains(e.Details, `"factor":"webauthn`))
	}
	if !found {
		t.Fatalf("no factor.proved record naming the security key: %+v", proved)
	}
}
