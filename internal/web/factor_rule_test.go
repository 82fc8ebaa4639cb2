package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// enrollAlicePhone gives alice (made by newLink) an activated phone through
// her link, and returns the QR page, whose setup key makes her codes.
func enrollAlicePhone(t *testing.T, p *testkit.Portal) (link, qrPage string) {
	t.Helper()
	link = newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	return link, page.Body
}

func factorCount(t *testing.T, p *testkit.Portal, username string) int {
	t.Helper()
	ctx := context.Background()
	u, err := p.Store.UserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Enroll.FactorsOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.SecurityKeys)
	for _, ph := range f.Phones {
		if ph.Activated {
			n++
		}
	}
	return n
}

// outboxSubjects lists the subjects of the queued emails to whom.
func outboxSubjects(t *testing.T, p *testkit.Portal, to string) []string {
	t.Helper()
	msgs, _, err := p.Store.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Recipient == to {
			out = append(out, m.Subject)
		}
	}
	return out
}

func TestNewFactorRuleLinkOfEnrolledUserCannotAddADeviceWithoutProof(t *testing.T) {
	p := testkit.Serve(t)
	_, first := enrollAlicePhone(t, p)
	ctx := context.Background()

	// Whoever reads the next enrollment email holds only the link.
	l, err := p.Enroll.IssueLink(ctx, "alice", 0, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	link := strings.TrimPrefix(l.URL, p.URL)
	attacker := testkit.NewClient(t, p)
	wantRedirect(t, attacker.Get(link), link+"/prove")
	wantRedirect(t, attacker.Get(link+"/app"), link+"/prove")
	wantStatus(t, attacker.Get(link+"/prove"), http.StatusOK, "<h1>Confirm it's you</h1>", `name="csrf_token"`)
	wantStatus(t, attacker.Post(link+"/choose", url.Values{"method": {"mobile"}}), http.StatusForbidden, "Confirm it&#39;s you first")
	wantStatus(t, attacker.Post(link+"/key/options", url.Values{"name": {"Mine"}}), http.StatusForbidden)
	wantStatus(t, attacker.Post(link+"/prove", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity, "That code did not work", "9 tries left")
	wantRedirect(t, attacker.Get(link), link+"/prove")
	if n := factorCount(t, p, "alice"); n != 1 {
		t.Fatalf("alice has %d factors after the attack, want 1", n)
	}

	// Even a set-up begun without the pages is refused where the device
	// would be stored.
	u, _ := p.Store.UserByUsername(ctx, "alice")
	sub := enroll.Subject{User: u, LinkID: l.Link.ID, Who: audit.Who{Type: audit.ActorUser, Name: "alice"}}
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	code := codeAt(t, `id="setup-key">`+setup.Secret+`<`, p.Clock.Now())
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, code); !errors.Is(err, enroll.ErrProofRequired) {
		t.Fatalf("confirm without proof: %v, want ErrProofRequired", err)
	}
	if n := factorCount(t, p, "alice"); n != 1 {
		t.Fatalf("alice has %d factors, want 1", n)
	}

	// Alice proves her phone with its next code, then adds a tablet.
	p.Clock.Advance(30 * time.Second)
	owner := testkit.NewClient(t, p)
	wantRedirect(t, owner.Get(link), link+"/prove")
	owner.Get(link + "/prove")
	wantRedirect(t, owner.Post(link+"/prove", url.Values{"code": {codeAt(t, first, p.Clock.Now())}}), link)
	wantStatus(t, owner.Get(link), http.StatusOK, "Set up two-factor sign-in")
	wantRedirect(t, owner.Post(link+"/choose", url.Values{"method": {"tablet"}}), link+"/platform")
	wantRedirect(t, owner.Post(link+"/platform", url.Values{"platform": {store.PlatformAndroid}}), link+"/app")
	tablet := owner.Get(link + "/app")
	wantRedirect(t, owner.Post(link+"/app", url.Values{"code": {codeAt(t, tablet.Body, p.Clock.Now())}}), link+"/done")
	if n := factorCount(t, p, "alice"); n != 2 {
		t.Fatalf("alice has %d factors after proving, want 2", n)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 100)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.FactorProofFailed, audit.FactorProved} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
	// Each device added was announced to alice.
	if got := outboxSubjects(t, p, "alice@example.com"); strings.Count(strings.Join(got, "\n"), "A device was added") != 2 {
		t.Errorf("device emails: %q", got)
	}
}

func TestNewFactorRuleResetLinkAddsTheNextDeviceWithoutProof(t *testing.T) {
	p := testkit.Serve(t)
	enrollAlicePhone(t, p)
	ctx := context.Background()
	u, _ := p.Store.UserByUsername(ctx, "alice")
	issued, emailed, err := p.Enroll.SendResetLink(ctx, u, audit.Who{Type: audit.ActorAdmin, Name: "ops@example.org"})
	if err != nil || !emailed {
		t.Fatalf("reset: emailed %v, %v", emailed, err)
	}
	if got := outboxSubjects(t, p, "alice@example.com"); len(got) < 2 {
		t.Fatalf("no reset email queued: %q", got)
	}
	link := strings.TrimPrefix(issued.URL, p.URL)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	if n := factorCount(t, p, "alice"); n != 2 {
		t.Fatalf("alice has %d factors after the reset, want 2", n)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 100)
	found := false
	for _, e := range entries {
		found = found || e.Action == audit.EnrollmentResetSent
	}
	if !found {
		t.Error("the reset is not in the audit log")
	}
	// The reset ends with its link: another browser is told it is used.
	wantStatus(t, testkit.NewClient(t, p).Get(link), http.StatusGone, "already been used")

	// A reset that expired lets nothing in.
	issued, _, err = p.Enroll.SendResetLink(ctx, u, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	p.Clock.Advance(enroll.LinkTTL + time.Minute)
	wantStatus(t, testkit.NewClient(t, p).Get(strings.TrimPrefix(issued.URL, p.URL)), http.StatusGone, "expired")
}

func TestNewFactorRuleInlineEnrollmentStillRefusesEnrolledUsers(t *testing.T) {
	p := testkit.Serve(t)
	enrollAlicePhone(t, p)
	app := store.Application{Key: "DAAPP", Name: "Payroll"}
	inline := strings.TrimPrefix(p.Enroll.InlineURL("alice", app), p.URL)
	wantStatus(t, testkit.NewClient(t, p).Get(inline), http.StatusGone, "already set up")
}
