package enroll_test

import (
	"context"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// The link's pages ask the new-factor rule from what opening the link read
// (OpenLinkOf, NeedsProofOf) instead of reading the user's factors again;
// the answer must be NeedsProof's in every case: no factor, a factor, a
// factor with proof in the session, a factor with an admin's reset link.
func TestNeedsProofOfAnOpenedLinkAgreesWithNeedsProof(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	u := mkUser(t, p, "noor")
	check := func(name, token string, proved, want bool) {
		t.Helper()
		o, err := p.Enroll.OpenLinkOf(ctx, token)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		sub := enroll.Subject{User: o.User, LinkID: o.Link.ID, Proved: proved, Who: audit.CLI()}
		got, err := p.Enroll.NeedsProofOf(ctx, sub, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		full, err := p.Enroll.NeedsProof(ctx, sub)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want || full != want {
			t.Errorf("%s: NeedsProofOf %v, NeedsProof %v; want %v", name, got, full, want)
		}
	}
	first, err := p.Enroll.IssueLink(ctx, "noor", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	check("no factor yet", first.Token, false, false)

	now := p.Clock.Now()
	ph := store.Phone{Key: "DPNOOR", Number: "+12015550123", Type: store.PhoneMobile, Platform: store.PlatformGeneric,
		Activated: true, ActivatedAt: &now, CreatedAt: now}
	if err := p.Store.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.AttachPhone(ctx, u.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	check("an activated phone", first.Token, false, true)
	check("an activated phone, proved", first.Token, true, false)

	reset, _, err := p.Enroll.SendResetLink(ctx, u, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	check("an activated phone, reset link", reset.Token, false, false)
}
