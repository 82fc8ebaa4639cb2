package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// smsPromptUser enrolls username with a phone that takes texts (an
// activated mobile with a number) under a global policy that accepts SMS,
// and returns the phone's number.
func smsPromptUser(t *testing.T, p *testkit.Portal, username string) string {
	t.Helper()
	ctx := context.Background()
	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	global.AuthMethods = []string{store.MethodAuthenticatorApp, store.MethodSMS}
	testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))
	sub := enroll.Subject{User: enroll.NewSubjectUser(username), Who: audit.CLI()}
	const number = "+14155550177"
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneMobile, Number: number, Platform: store.PlatformIOS})
	testkit.NoErr(t, err)
	_, err = p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, testkit.TOTPNow(t, "otpauth://totp/x?secret="+setup.Secret, p.Clock.Now()))
	testkit.NoErr(t, err)
	p.Clock.Advance(time.Minute)
	return number
}

var textedCodeRe = regexp.MustCompile(`\b(\d{7})\b`)

// deliveredCode delivers the outbox and reads the passcode of the newest
// text to number at the gateway.
func deliveredCode(t *testing.T, p *testkit.Portal, gw *testkit.SMSGateway, number string) string {
	t.Helper()
	if _, err := p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	texts := gw.Received()
	for i := len(texts) - 1; i >= 0; i-- {
		if m := textedCodeRe.FindStringSubmatch(texts[i].Body); texts[i].To == number && m != nil {
			return m[1]
		}
	}
	t.Fatalf("no passcode reached %s: %+v", number, texts)
	return ""
}

func TestPromptTextsACodeThatSignsInOnceAndNamesTheFactor(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	h := newPromptHTTP(t, testkit.WithDelivery(nil, gw))
	number := smsPromptUser(t, h.p, "sam")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "sam")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	wantStatus(t, c.Get(prompt+"/passcode"), http.StatusOK, "Text me a code", "to XXX-XXX-0177", `action="`+prompt+`/sms"`)
	wantStatus(t, c.Post(prompt+"/sms", url.Values{}), http.StatusOK, "We texted a 7-digit code to XXX-XXX-0177", "Text me another code")
	code := deliveredCode(t, h.p, gw, number)
	wantRedirect(t, c.Post(prompt+"/passcode", url.Values{"code": {code}}), prompt+"/return")
	res := h.callback(t, c.Get(prompt+"/return"), "sam")
	if !res.Allowed() || res.AuthContext.Factor != "sms_passcode" {
		t.Fatalf("result %+v", res)
	}
	// Used once, it is gone.
	again := h.start(t, c, "sam")
	c.Get(again)
	wantStatus(t, c.Post(again+"/passcode", url.Values{"code": {code}}), http.StatusUnprocessableEntity, "9 tries left")
	// Two more texts, then the limit: a clear error, and nothing sent.
	c.Post(again+"/sms", url.Values{})
	c.Post(again+"/sms", url.Values{})
	wantStatus(t, c.Post(again+"/sms", url.Values{}), http.StatusTooManyRequests, "We already texted you 3 codes in the last 15 minutes")
	if _, err := h.p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(gw.Received()); n != 3 {
		t.Errorf("%d texts sent, want 3", n)
	}
}

func TestPromptOffersNoTextWhenThePolicyDoesNotAcceptSMS(t *testing.T) {
	h := newPromptHTTP(t)
	smsPromptUser(t, h.p, "nat")
	ctx := context.Background()
	global := testkit.Got(h.p.Store.GlobalPolicy(ctx)).Must(t)
	global.AuthMethods = []string{store.MethodAuthenticatorApp}
	testkit.NoErr(t, h.p.Store.UpdatePolicy(ctx, global))
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "nat")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	if r := c.Get(prompt + "/passcode"); strings.Contains(r.Body, "Text me a code") {
		t.Fatal("the passcode page offers a text the policy does not accept")
	}
	// Asking anyway sends nothing and goes back to the start.
	wantRedirect(t, c.Post(prompt+"/sms", url.Values{}), prompt)
}

func TestBrowserPromptTextMeACodeSignsInOnAPhone(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	r := newPromptRig(t, store.NewUserRequireEnrollment, testkit.WithDelivery(nil, gw))
	number := smsPromptUser(t, r.p, "sam")
	// Every page is checked with axe-core at 360 px and at desktop width.
	b := testkit.NewBrowser(t, testkit.WithViewport(testkit.Phone))
	r.signIn(b, "sam")
	if got := b.Text("form.sms-send"); !strings.Contains(got, "Text me a code") || !strings.Contains(got, "XXX-XXX-0177") {
		t.Fatalf("the passcode page's text form reads %q", got)
	}
	b.Submit("#sms-send")
	if got := b.Text("p.notice"); !strings.Contains(got, "We texted a 7-digit code to XXX-XXX-0177") {
		t.Fatalf("after asking for a text the page says %q", got)
	}
	width := testkit.Eval[int](b, `window.innerWidth`)
	if w := testkit.Eval[int](b, `document.documentElement.scrollWidth`); w > width {
		t.Errorf("the passcode page is %d px wide in a %d px window", w, width)
	}
	b.SendKeys("#code", deliveredCode(t, r.p, gw, number))
	b.Submit("#code")
	wantSignedIn(t, b, "sam", "sms_passcode")
}

func TestDevicesPageProofByTextedCodeSaysTheSameForEveryUsername(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	p := testkit.Serve(t, testkit.WithDelivery(nil, gw))
	number := smsPromptUser(t, p, "sam")
	ask := func(c *testkit.Client, username string) testkit.Response {
		t.Helper()
		c.Get("/my-devices")
		wantRedirect(t, c.Post("/my-devices/start", url.Values{"username": {username}}), "/my-devices/prove")
		wantStatus(t, c.Get("/my-devices/prove"), http.StatusOK, `action="/my-devices/prove/sms"`, "Text me a code")
		return c.Post("/my-devices/prove/sms", url.Values{})
	}
	c := testkit.NewClient(t, p)
	known := ask(c, "sam")
	unknown := ask(testkit.NewClient(t, p), "nobody")
	wantStatus(t, known, http.StatusOK, "a 7-digit code is on its way")
	strip := func(s string) string {
		return strings.ReplaceAll(csrfValue.ReplaceAllString(s, ""), "nobody", "sam")
	}
	if strip(known.Body) != strip(unknown.Body) {
		t.Fatalf("the answers differ:\n%s\n----\n%s", known.Body, unknown.Body)
	}
	// Only the real user's phone got a text; its code proves the factor.
	code := deliveredCode(t, p, gw, number)
	if n := len(gw.Received()); n != 1 {
		t.Fatalf("%d texts sent, want 1", n)
	}
	wantRedirect(t, c.Post("/my-devices/prove", url.Values{"code": {code}}), "/my-devices")
	wantStatus(t, c.Get("/my-devices"), http.StatusOK, "Your devices", "Signed in as sam")
	proved := testkit.Got(p.Store.AuditForTarget(context.Background(), audit.TargetUser, "sam", 100)).Must(t)
	found := false
	for _, e := range proved {
		found = found || (e.Action == audit.FactorProved && strings.Contains(e.Details, `"factor":"sms_passcode"`))
	}
	if !found {
		t.Fatalf("no factor.proved record naming sms_passcode: %+v", proved)
	}
}
