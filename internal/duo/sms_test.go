package duo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// enrolledNumber is the number enrollPhone gives the phone.
const enrolledNumber = "+14155550123"

// acceptSMS makes the global policy accept SMS passcodes (besides apps).
func acceptSMS(t *testing.T, p *testkit.Portal) {
	t.Helper()
	ctx := context.Background()
	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	global.AuthMethods = []string{store.MethodAuthenticatorApp, store.MethodSMS}
	testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))
}

var smsCode = regexp.MustCompile(`\b(\d{7})\b`)

// textedCode delivers the outbox and returns the passcode of the newest
// text the gateway received for number.
func textedCode(t *testing.T, p *testkit.Portal, gw *testkit.SMSGateway, number string) string {
	t.Helper()
	if _, err := p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	texts := gw.Received()
	for i := len(texts) - 1; i >= 0; i-- {
		if texts[i].To != number {
			continue
		}
		m := smsCode.FindStringSubmatch(texts[i].Body)
		if m == nil || !strings.HasPrefix(texts[i].Intent, "sms-passcode:") {
			t.Fatalf("the newest text to %s carries no passcode: %+v", number, texts[i])
		}
		return m[1]
	}
	t.Fatalf("no text reached %s; the gateway has %+v", number, texts)
	return ""
}

func TestLoginDuoSMSPasscodeFromTheMenuLogsInOnce(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	p, files := testkit.ServeTLS(t, testkit.WithDelivery(nil, gw))
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	// Three rounds: login_duo counts the round that texts the code as a
	// failed one and shows its menu again, where the code is typed.
	ld := testkit.NewLoginDuoPrompts(t, app.ClientID, app.ClientSecret, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure", 3)
	acceptSMS(t, p)
	enrollPhone(t, p, unixUser)

	s := ld.Start(t)
	s.WaitFor("1. SMS passcodes to XXX-XXX-0123")
	s.WaitFor("Passcode or option (1-1):")
	s.TypeLine("1")
	s.WaitFor(smsSentText)
	waitForCount(t, s, "Passcode or option (1-1):", 2)
	code := textedCode(t, p, gw, enrolledNumber)
	s.TypeLine(code)
	exit, out := s.Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("login_duo with an SMS passcode: exit %d, terminal %q", exit, out)
	}
	allowed := auditOf(t, p, unixUser, audit.AuthAllowed)
	if len(allowed) != 1 || !strings.Contains(allowed[0].Details, `"factor":"sms_passcode"`) {
		t.Fatalf("allowed records: %+v", allowed)
	}
	if sent := auditOf(t, p, unixUser, audit.SMSPasscodeSent); len(sent) != 1 || !strings.Contains(sent[0].Details, `"factor":"sms_passcode"`) {
		t.Fatalf("sent records: %+v", sent)
	}

	// Single use: the same code in a new login is refused.
	s = ld.Start(t)
	s.WaitFor("Passcode or option (1-1):")
	s.TypeLine(code)
	s.WaitFor("Incorrect passcode")
	if strings.Contains(s.Output(), "COMMAND-RAN") {
		t.Fatalf("a used SMS passcode logged in: %q", s.Output())
	}
}

const smsSentText = "New SMS passcodes sent"

// waitForCount waits until the terminal has shown text n times.
func waitForCount(t *testing.T, s *testkit.LoginDuoSession, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.Output(), text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q %d times: %q", text, n, s.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoginDuoMenuOffersNoSMSWhenThePolicyDoesNot(t *testing.T) {
	p, _, ld := loginDuoPortal(t, store.NewUserRequireEnrollment)
	enrollPhone(t, p, unixUser)
	s := ld.Start(t)
	s.WaitFor("Enter the passcode from your authenticator app")
	if strings.Contains(s.Output(), "SMS") {
		t.Fatalf("the menu offers SMS that the policy does not accept: %q", s.Output())
	}
}

func TestAuthAPISMSPasscodeIsSentThenWorksOnce(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	a := newAuthAPIPortal(t, "", testkit.WithDelivery(nil, gw))
	acceptSMS(t, a.p)
	enrollPhone(t, a.p, "sara")

	pre, err := a.client.Preauth(authapi.PreauthUsername("sara"))
	if err != nil || pre.Response.Result != "auth" || len(pre.Response.Devices) != 1 ||
		!slices.Contains(pre.Response.Devices[0].Capabilities, "sms") {
		t.Fatalf("Preauth = %+v, %v", pre, err)
	}
	res, err := a.client.Auth("sms", authapi.AuthUsername("sara"), authapi.AuthDevice(pre.Response.Devices[0].Device))
	if err != nil || res.Stat != "OK" || res.Response.Result != "deny" || res.Response.Status != "sent" ||
		res.Response.Status_Msg != "New SMS passcodes sent" {
		t.Fatalf("Auth(sms) = %+v, %v", res, err)
	}
	code := textedCode(t, a.p, gw, enrolledNumber)
	if body := gw.Received()[0].Body; !strings.Contains(body, "5 minutes") || !strings.Contains(body, "Example Org") || !strings.Contains(body, "Your passcode is "+code) {
		t.Errorf("the text reads %q", body)
	}
	// The code is stored only as a keyed hash: the delivered text keeps
	// no digits of it either.
	if n := testkit.Count(t, a.p, `SELECT COUNT(*) FROM sms_passcodes WHERE length(code_hash) = 32 AND CAST(code_hash AS TEXT) NOT LIKE ?`, "%"+code+"%"); n != 1 {
		t.Errorf("%d hashed SMS passcodes stored, want 1", n)
	}
	if n := testkit.Count(t, a.p, `SELECT COUNT(*) FROM outbox WHERE body_text LIKE ?`, "%"+code+"%"); n != 0 {
		t.Error("the delivered text keeps the passcode in the outbox")
	}
	auth := func(code string) string {
		t.Helper()
		res, err := a.client.Auth("passcode", authapi.AuthUsername("sara"), authapi.AuthPasscode(code))
		if err != nil || res.Stat != "OK" {
			t.Fatalf("Auth(passcode) = %+v, %v", res, err)
		}
		return res.Response.Result
	}
	if got := auth(code); got != "allow" {
		t.Fatalf("the texted code: %s", got)
	}
	if got := auth(code); got != "deny" {
		t.Fatalf("the texted code a second time: %s", got)
	}
	allowed := auditOf(t, a.p, "sara", audit.AuthAllowed)
	if len(allowed) != 1 || !strings.Contains(allowed[0].Details, `"factor":"sms_passcode"`) {
		t.Fatalf("allowed records: %+v", allowed)
	}

	// A code is valid five minutes: one texted 5 minutes and a second ago
	// no longer works. (duo_api_golang signs with the wall clock, so the
	// code is sent in the past.)
	now := a.p.Clock.Now()
	a.p.Clock.Set(now.Add(-verifyTTL - time.Second))
	res, err = a.client.Auth("sms", authapi.AuthUsername("sara"), authapi.AuthDevice("auto"))
	a.p.Clock.Set(now)
	if err != nil || res.Response.Status != "sent" {
		t.Fatalf("Auth(sms, auto) = %+v, %v", res, err)
	}
	if got := auth(textedCode(t, a.p, gw, enrolledNumber)); got != "deny" {
		t.Fatalf("an expired SMS passcode: %s", got)
	}
}

// verifyTTL is how long an SMS passcode works.
const verifyTTL = 5 * time.Minute

func TestAuthAPISMSSendLimitIsThreePerPhonePerQuarterHour(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	a := newAuthAPIPortal(t, "", testkit.WithDelivery(nil, gw))
	acceptSMS(t, a.p)
	enrollPhone(t, a.p, "timo")
	send := func() (int, http.Header, map[string]any) {
		t.Helper()
		return rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
			url.Values{"username": {"timo"}, "factor": {"sms"}, "device": {"auto"}}.Encode(), a.p.Clock.Now())
	}
	for i := range 3 {
		if status, _, body := send(); status != http.StatusOK {
			t.Fatalf("send %d: %d %v", i+1, status, body)
		}
		a.p.Clock.Advance(time.Minute)
	}
	status, header, body := send()
	retry, _ := strconv.Atoi(header.Get("Retry-After"))
	// The first text was 3 minutes ago: the next may go 12 minutes on.
	if status != http.StatusTooManyRequests || retry != 12*60 || body["code"] != float64(42901) ||
		!strings.Contains(fmt.Sprint(body["message_detail"]), "3 passcodes were texted to this phone") {
		t.Fatalf("fourth send: %d, Retry-After %q, %v", status, header.Get("Retry-After"), body)
	}
	if _, err := a.p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(gw.Received()); n != 3 {
		t.Fatalf("%d texts went out, want 3", n)
	}
	// The refused send is on record, and the phone's count is Duo's
	// sms_passcodes_sent.
	if denied := auditOf(t, a.p, "timo", audit.AuthDenied); len(denied) != 1 || !strings.Contains(denied[0].Details, "sms_send_limit") {
		t.Fatalf("denied records: %+v", denied)
	}
	// A quarter of an hour after the first, one more may go.
	a.p.Clock.Advance(12 * time.Minute)
	if status, _, body := send(); status != http.StatusOK {
		t.Fatalf("send after the window: %d %v", status, body)
	}
}

func TestAuthAPIWrongSMSPasscodesCountTowardsTheLockout(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	a := newAuthAPIPortal(t, "", testkit.WithDelivery(nil, gw))
	acceptSMS(t, a.p)
	enrollPhone(t, a.p, "ulla")
	if res, err := a.client.Auth("sms", authapi.AuthUsername("ulla")); err != nil || res.Response.Status != "sent" {
		t.Fatalf("Auth(sms) = %+v, %v", res, err)
	}
	code := textedCode(t, a.p, gw, enrolledNumber)
	wrong := fmt.Sprintf("%07d", (testkit.Got(strconv.Atoi(code)).Must(t)+1)%10000000)
	for i := range 10 {
		res, err := a.client.Auth("passcode", authapi.AuthUsername("ulla"), authapi.AuthPasscode(wrong))
		if err != nil || res.Response.Result != "deny" {
			t.Fatalf("wrong code %d: %+v, %v", i+1, res, err)
		}
		a.p.Clock.Advance(time.Second)
	}
	u := testkit.Got(a.p.Store.UserByUsername(context.Background(), "ulla")).Must(t)
	if u.Status != store.StatusLockedOut {
		t.Fatalf("after 10 wrong SMS passcodes the user is %s", u.Status)
	}
	res, err := a.client.Auth("passcode", authapi.AuthUsername("ulla"), authapi.AuthPasscode(code))
	if err != nil || res.Response.Result != "deny" {
		t.Fatalf("the right code of a locked-out user: %+v, %v", res, err)
	}
	// A locked-out user gets no texts either.
	if res, err := a.client.Auth("sms", authapi.AuthUsername("ulla")); err != nil || res.Response.Status == "sent" {
		t.Fatalf("Auth(sms) of a locked-out user = %+v, %v", res, err)
	}
}

func TestSMSPasscodeIsDeliveredAheadOfBulkTexts(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	a := newAuthAPIPortal(t, "", testkit.WithDelivery(nil, gw))
	acceptSMS(t, a.p)
	enrollPhone(t, a.p, "vera")
	ctx := context.Background()
	// A bulk send's worth of texts waits in the outbox, older than the
	// passcode: more than one delivery pass takes.
	testkit.NoErr(t, a.p.Store.InTx(ctx, func(q store.Queries) error {
		for i := range notifyBatch + 10 {
			m := store.Message{IntentKey: fmt.Sprintf("bulk:%d", i), Channel: store.ChannelSMS,
				Recipient: fmt.Sprintf("+1415555%04d", 1000+i), BodyText: "Set up two-factor sign-in"}
			if _, err := notify.Enqueue(ctx, q, m, a.p.Clock.Now()); err != nil {
				return err
			}
		}
		return nil
	}))
	a.p.Clock.Advance(time.Second)
	if res, err := a.client.Auth("sms", authapi.AuthUsername("vera")); err != nil || res.Response.Status != "sent" {
		t.Fatalf("Auth(sms) = %+v, %v", res, err)
	}
	sum, err := a.p.Notify.DeliverDue(ctx)
	if err != nil || sum.Claimed != notifyBatch {
		t.Fatalf("one pass: %+v, %v", sum, err)
	}
	texts := gw.Received()
	if !slices.ContainsFunc(texts, func(s testkit.SMS) bool { return s.To == enrolledNumber }) {
		t.Fatalf("the passcode waited behind %d bulk texts", len(texts))
	}
}

// notifyBatch is how many messages one delivery pass claims.
const notifyBatch = notify.DefaultBatchSize
