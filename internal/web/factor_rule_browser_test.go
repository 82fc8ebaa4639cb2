package web_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

// TestBrowserDevicesAttackerWithOnlyTheLinkCannotAddADevice: whoever reads
// the enrollment email of an enrolled user gets a page that asks for a code
// from the existing device, and no way around it.
func TestBrowserDevicesAttackerWithOnlyTheLinkCannotAddADevice(t *testing.T) {
	p := testkit.Serve(t)
	enrollAlicePhone(t, p)
	l, err := p.Enroll.IssueLink(context.Background(), "alice", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.Visit(l.URL)
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("heading %q, want the proof step", got)
	}
	b.SendKeys("#code", "000000")
	b.Submit("#code")
	if !strings.Contains(b.Text("#code-error"), "9 tries left") {
		t.Fatalf("error %q", b.Text("#code-error"))
	}
	// Going straight to a later step leads back to the proof.
	b.Visit(l.URL + "/choose")
	b.WaitLocation("/prove")
	if n := factorCount(t, p, "alice"); n != 1 {
		t.Fatalf("alice has %d factors, want 1", n)
	}
}
