package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestBrowserEnrollLinkProofByTextedCode: a user whose phone takes texts
// opens an enrollment link to add a device; the "Confirm it's you" step
// texts them a code, which proves the factor, and they go on to add a
// phone by its QR code.
func TestBrowserEnrollLinkProofByTextedCode(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	p := testkit.Serve(t, testkit.WithDelivery(nil, gw))
	number := smsPromptUser(t, p, "sam")
	l, err := p.Enroll.IssueLink(context.Background(), "sam", 0, audit.CLI())
	testkit.NoErr(t, err)
	// Every page is checked with axe-core at 360 px and at desktop width.
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.Visit(l.URL)
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("heading %q, want the proof step", got)
	}
	if got := b.Text("form.sms-send"); !strings.Contains(got, "Text me a code") || !strings.Contains(got, "XXX-XXX-0177") {
		t.Fatalf("the proof step's text form reads %q", got)
	}
	b.Submit("#sms-send")
	if got := b.Text("p.notice"); !strings.Contains(got, "We texted a 7-digit code to XXX-XXX-0177") {
		t.Fatalf("after asking for a text the page says %q", got)
	}
	width := testkit.Eval[int](b, `window.innerWidth`)
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > width {
		t.Errorf("the proof step is %d px wide in a %d px window", w, width)
	}
	b.SendKeys("#code", deliveredCode(t, p, gw, number))
	b.Submit("#code")
	if got := b.Text("h1"); got != "Set up two-factor sign-in" {
		t.Fatalf("after the texted code the heading is %q, want the welcome step", got)
	}
	// On to a second phone, stored in the transaction that checks the
	// proof again.
	b.ClickAndWait("button[type=submit]")
	b.SendKeys("#number", "201 555 0123")
	b.ClickAndWait("button[type=submit]")
	b.Click(`input[value="Google Android"]`)
	b.ClickAndWait("button[type=submit]")
	otpauth := testkit.QROnPage(t, b)
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, p.Clock.Now()))
	b.WaitVisible("ul.factors")
	if got := b.Text("h1"); got != "You are set up" {
		t.Fatalf("done heading %q", got)
	}
	if n := factorCount(t, p, "sam"); n != 2 {
		t.Fatalf("sam has %d factors, want 2", n)
	}
	wantAudit(t, p, "sam", audit.SMSPasscodeSent, `"factor":"sms_passcode"`)
	wantAudit(t, p, "sam", audit.FactorProved, `"factor":"sms_passcode"`)
}

// wantAudit fails unless username's audit has an action record whose
// details hold detail.
func wantAudit(t *testing.T, p *testkit.Portal, username, action, detail string) {
	t.Helper()
	entries := testkit.Got(p.Store.AuditForTarget(context.Background(), audit.TargetUser, username, 100)).Must(t)
	for _, e := range entries {
		if e.Action == action && strings.Contains(e.Details, detail) {
			return
		}
	}
	t.Fatalf("no %s record with %s for %s: %+v", action, detail, username, entries)
}

// TestEnrollLinkProofTextsUnderTheDevicePagesRules: the link's texts share
// the phone's send limit with the device page, wrong codes count towards
// the lockout, and where the global policy does not accept SMS the step
// offers no text and sends none.
func TestEnrollLinkProofTextsUnderTheDevicePagesRules(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	p := testkit.Serve(t, testkit.WithDelivery(nil, gw))
	number := smsPromptUser(t, p, "sam")
	l, err := p.Enroll.IssueLink(context.Background(), "sam", 0, audit.CLI())
	testkit.NoErr(t, err)
	link := strings.TrimPrefix(l.URL, p.URL)

	// One text from the device page ...
	d := testkit.NewClient(t, p)
	d.Get("/my-devices")
	d.Post("/my-devices/start", url.Values{"username": {"sam"}})
	wantStatus(t, d.Post("/my-devices/prove/sms", url.Values{}), http.StatusOK, "a 7-digit code is on its way")

	// ... and two from the link reach the limit of three.
	c := testkit.NewClient(t, p)
	wantRedirect(t, c.Get(link), link+"/prove")
	wantStatus(t, c.Get(link+"/prove"), http.StatusOK, `action="`+link+`/prove/sms"`, "Text me a code", "to XXX-XXX-0177")
	wantStatus(t, c.Post(link+"/prove/sms", url.Values{}), http.StatusOK, "We texted a 7-digit code to XXX-XXX-0177")
	code := deliveredCode(t, p, gw, number)
	wantStatus(t, c.Post(link+"/prove/sms", url.Values{}), http.StatusOK, "We texted a 7-digit code")
	wantStatus(t, c.Post(link+"/prove/sms", url.Values{}), http.StatusTooManyRequests, "We already texted you 3 codes in the last 15 minutes")
	if _, err := p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(gw.Received()); n != 3 {
		t.Fatalf("%d texts sent, want 3", n)
	}
	// A wrong code is a counted try, as everywhere.
	wrong := "0000000"
	if code == wrong {
		wrong = "1111111"
	}
	wantStatus(t, c.Post(link+"/prove", url.Values{"code": {wrong}}), http.StatusUnprocessableEntity, "9 tries left")
	if n := factorCount(t, p, "sam"); n != 1 {
		t.Fatalf("sam has %d factors, want 1", n)
	}

	// Without SMS in the global policy: no button, and asking anyway
	// sends nothing and says why.
	ctx := context.Background()
	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	global.AuthMethods = []string{store.MethodAuthenticatorApp}
	testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))
	o := testkit.NewClient(t, p)
	if r := o.Get(link + "/prove"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "Text me a code") {
		t.Fatalf("the proof step offers a text the policy does not accept: %d\n%s", r.StatusCode, r.Body)
	}
	wantStatus(t, o.Post(link+"/prove/sms", url.Values{}), http.StatusUnprocessableEntity, "No phone on your account can be texted a code here")
}
