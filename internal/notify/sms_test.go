package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/store"
	"enrollportal/internal/testkit/logbuf"
)

// gateway is a local HTTP server that records every request it receives and
// answers with the statuses queued in answers (then 200/201).
type gateway struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []gatewayRequest
	answers  []int
	ok       int
}

type gatewayRequest struct {
	Method, Path, ContentType, Idempotency string
	User, Pass                             string
	HasAuth                                bool
	Body                                   string
}

func newGateway(t testing.TB, ok int) *gateway {
	g := &gateway{ok: ok}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, hasAuth := r.BasicAuth()
		g.mu.Lock()
		g.requests = append(g.requests, gatewayRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"),
			r.Header.Get("Idempotency-Key"), user, pass, hasAuth, string(body)})
		status := g.ok
		if len(g.answers) > 0 {
			status, g.answers = g.answers[0], g.answers[1:]
		}
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status >= 400 {
			io.WriteString(w, `{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}`)
		} else {
			io.WriteString(w, `{"sid": "SM123", "status": "queued"}`)
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) got() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

// enqueueActivationSMS writes the two SMS of an activation.
func (f *fixture) enqueueActivationSMS(t testing.TB, codeID int64, number string) [2]store.Message {
	t.Helper()
	ctx := context.Background()
	org, _ := f.svc.Org(ctx, f.db)
	msgs := ActivationSMS(org, store.User{Username: "carol"}, number, "https://apps.example/install",
		"https://portal.example/activate/xyz", start.Add(24*time.Hour), nil)
	msgs[0].IntentKey = ActivationIntent(codeID, "sms-install")
	msgs[1].IntentKey = ActivationIntent(codeID, "sms-activate")
	err := f.db.InTx(ctx, func(q store.Queries) error {
		for _, m := range msgs {
			if _, err := Enqueue(ctx, q, m, f.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestSMSWebhook(t *testing.T) {
	g := newGateway(t, http.StatusOK)
	u, _ := url.Parse(g.srv.URL)
	u.User, u.Path = url.UserPassword("portal", "p@ss"), "/hooks/sms"
	f := newFixture(t, Options{SMSURL: u.String()})
	msgs := f.enqueueActivationSMS(t, 7, "+15551230001")
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	got := g.got()
	if len(got) != 2 {
		t.Fatalf("requests = %+v", got)
	}
	for i, r := range got {
		var body struct{ To, Body string }
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatal(err)
		}
		if r.Method != http.MethodPost || r.Path != "/hooks/sms" || r.ContentType != "application/json" ||
			!r.HasAuth || r.User != "portal" || r.Pass != "p@ss" || r.Idempotency != msgs[i].IntentKey {
			t.Errorf("request %d = %+v", i, r)
		}
		if body.To != "+15551230001" || body.Body != msgs[i].BodyText {
			t.Errorf("request %d body = %+v", i, body)
		}
	}
	// Install instructions first, then the activation link.
	if !strings.Contains(got[0].Body, "apps.example/install") || !strings.Contains(got[1].Body, "activate/xyz") {
		t.Errorf("SMS out of order:\n%s\n%s", got[0].Body, got[1].Body)
	}
	if !strings.Contains(got[0].Body, "automated message from the Example Org enrollment portal") {
		t.Errorf("SMS lacks the header line: %s", got[0].Body)
	}
}

func TestSMSKeepsOrderWhenTheFirstFails(t *testing.T) {
	g := newGateway(t, http.StatusOK)
	g.answers = []int{http.StatusServiceUnavailable}
	f := newFixture(t, Options{SMSURL: g.srv.URL + "/sms"})
	f.enqueueActivationSMS(t, 8, "+15551230002")
	if sum := f.deliver(t); sum.Retrying != 1 || sum.Released != 1 || sum.Sent != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	if len(g.got()) != 1 {
		t.Fatalf("the activation SMS went out before the install SMS: %+v", g.got())
	}
	f.clock.Advance(Backoff(1))
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("retry = %+v", sum)
	}
	got := g.got()
	if len(got) != 3 || !strings.Contains(got[1].Body, "install") || !strings.Contains(got[2].Body, "activate/xyz") {
		t.Fatalf("requests = %+v", got)
	}
	second, _ := f.db.MessageByID(context.Background(), 2)
	if second.Attempts != 1 {
		t.Errorf("the held message counted %d attempts, want 1 (its only send)", second.Attempts)
	}
}

func TestSMSTwilio(t *testing.T) {
	g := newGateway(t, http.StatusCreated)
	f := newFixture(t, Options{SMSURL: "twilio://AC0123456789abcdef:authtoken@15557654321", TwilioBaseURL: g.srv.URL})
	msgs := f.enqueueActivationSMS(t, 9, "+15551230003")
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	got := g.got()
	if len(got) != 2 {
		t.Fatalf("requests = %+v", got)
	}
	for i, r := range got {
		form, err := url.ParseQuery(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json" ||
			r.ContentType != "application/x-www-form-urlencoded" || r.User != "AC0123456789abcdef" || r.Pass != "authtoken" {
			t.Errorf("request %d = %+v", i, r)
		}
		if form.Get("To") != "+15551230003" || form.Get("From") != "+15557654321" || form.Get("Body") != msgs[i].BodyText {
			t.Errorf("request %d form = %v", i, form)
		}
	}
}

func TestSMSTwilioSenderWithPlus(t *testing.T) {
	g := newGateway(t, http.StatusCreated)
	f := newFixture(t, Options{SMSURL: "twilio://AC1:tok@+15557654321", TwilioBaseURL: g.srv.URL})
	f.enqueueActivationSMS(t, 12, "+15551230005")
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	if form, _ := url.ParseQuery(g.got()[0].Body); form.Get("From") != "+15557654321" {
		t.Errorf("From = %q", form.Get("From"))
	}
}

func TestSMSTwilioMessagingServiceAndRefusal(t *testing.T) {
	g := newGateway(t, http.StatusCreated)
	g.answers = []int{http.StatusBadRequest, http.StatusTooManyRequests}
	f := newFixture(t, Options{SMSURL: "twilio://ACabc:tok@MG0123456789", TwilioBaseURL: g.srv.URL, Senders: 1})
	f.enqueueActivationSMS(t, 10, "+15550000000")
	f.enqueueActivationSMS(t, 11, "+15551230004")
	// One sender, so the answers meet the messages in order: 400 fails the
	// first for good (its partner is still tried: holding it back would not
	// help), 429 is retried, the other pair goes out.
	sum := f.deliver(t)
	if sum.Claimed != 4 || sum.Failed != 1 || sum.Retrying != 1 || sum.Sent != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	first, _ := f.db.MessageByID(context.Background(), 1)
	if first.Status != store.MessageFailed || !strings.Contains(first.LastError, "not a valid phone number") {
		t.Errorf("refused message = %+v", first)
	}
	for _, r := range g.got() {
		form, _ := url.ParseQuery(r.Body)
		if form.Get("MessagingServiceSid") != "MG0123456789" || form.Has("From") {
			t.Errorf("form = %v", form)
		}
	}
}

// TestSMSGatewayEchoLeavesNoSecretBehind plays a gateway that answers an
// error quoting the request it got. The activation link and the code in the
// SMS must reach neither the outbox's last error (which every admin role
// reads) nor the log.
func TestSMSGatewayEchoLeavesNoSecretBehind(t *testing.T) {
	answers := []int{http.StatusBadRequest, http.StatusBadGateway}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		status := answers[0]
		answers = answers[1:]
		mu.Unlock()
		if status == http.StatusBadRequest {
			// A JSON error whose message quotes the request, as some do.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"status": status, "message": "invalid request: " + string(body)})
			return
		}
		// A proxy's plain-text page dumping the request.
		w.WriteHeader(status)
		io.WriteString(w, "upstream refused POST "+r.URL.String()+" body="+string(body))
	}))
	t.Cleanup(srv.Close)

	var logs logbuf.SafeBuffer
	f := newFixture(t, Options{SMSURL: srv.URL + "/sms", Log: newTextLogger(&logs)})
	const link = "https://portal.example/activate/Qm9vdHN0cmFwVG9rZW4xMjM0NTY3"
	const code = "48291736"
	ctx := context.Background()
	bodies := []string{
		"Example Org: activate your phone at " + link + " before Friday.",
		"Example Org: your activation code is " + code + " (or 4829-1736).",
	}
	for i, b := range bodies {
		m := store.Message{Channel: store.ChannelSMS, Recipient: "+15551230009", BodyText: b, IntentKey: ActivationIntent(int64(40+i), "sms")}
		if _, err := Enqueue(ctx, f.db, m, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if sum := f.deliver(t); sum.Failed != 1 || sum.Retrying != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	secrets := []string{"activate/", "Qm9vdHN0cmFwVG9rZW4xMjM0NTY3", "portal.example", code, "4829-1736", "5551230009"}
	for _, id := range []int64{1, 2} {
		row, err := f.db.MessageByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if row.LastError == "" || !strings.Contains(row.LastError, "SMS webhook answered") {
			t.Errorf("message %d: last error %q does not say what failed", id, row.LastError)
		}
		for _, s := range secrets {
			if strings.Contains(row.LastError, s) {
				t.Errorf("message %d: last error holds %q: %s", id, s, row.LastError)
			}
		}
	}
	first, _ := f.db.MessageByID(ctx, 1)
	if !strings.Contains(first.LastError, "400") || !strings.Contains(first.LastError, "invalid request") {
		t.Errorf("the status and the gist of the reason are gone: %q", first.LastError)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") {
		t.Fatalf("no ERROR line for the failed message:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q:\n%s", s, out)
		}
	}
}
