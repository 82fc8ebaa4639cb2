package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit/logbuf"
	"enrollportal/internal/testkit/testdb"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	db    *sqlite.DB
	clock *clock.Fake
	svc   *Service
	opts  Options
	path  string
}

func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	f := &fixture{path: testdb.New(t), clock: clock.NewFake(start)}
	f.db = openStoreAt(t, f.path)
	o.Store, o.Clock = f.db, f.clock
	o.OrgName = func(context.Context) string { return "Example Org" }
	if o.MailFrom == "" {
		o.MailFrom = "Example Org <portal@example.org>"
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.opts = svc, o
	return f
}

// restart plays a process restart: the database is closed and opened again
// from its file, and a new Service runs on it.
func (f *fixture) restart(t testing.TB) {
	t.Helper()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.db = openStoreAt(t, f.path)
	f.opts.Store = f.db
	var err error
	if f.svc, err = New(f.opts); err != nil {
		t.Fatal(err)
	}
}

// enqueueEmails writes n enrollment emails, one per user, as the admin
// pages would.
func (f *fixture) enqueueEmails(t testing.TB, n int) []store.Message {
	t.Helper()
	ctx := context.Background()
	org, err := f.svc.Org(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Message
	for i := 0; i < n; i++ {
		u := store.User{Username: fmt.Sprintf("user%03d", i), RealName: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%03d@example.com", i)}
		m := EnrollmentEmail(org, u, fmt.Sprintf("https://portal.example/enroll/tok%d", i), start.Add(720*time.Hour), nil)
		m.IntentKey = EnrollLinkIntent(int64(i+1), 1)
		if ok, err := Enqueue(ctx, f.db, m, f.clock.Now()); err != nil || !ok {
			t.Fatalf("enqueue %d: %v %v", i, ok, err)
		}
		out = append(out, m)
	}
	return out
}

func (f *fixture) deliver(t testing.TB) Summary {
	t.Helper()
	sum, err := f.svc.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func (f *fixture) counts(t testing.TB) map[string]int {
	t.Helper()
	c, err := f.db.CountMessagesByStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertDeliveredOnce checks that each of want arrived exactly once.
func assertDeliveredOnce(t testing.TB, got []received, want []store.Message) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		for _, to := range r.To {
			seen[to]++
		}
	}
	for _, m := range want {
		if seen[m.Recipient] != 1 {
			t.Errorf("%s received %d times, want once", m.Recipient, seen[m.Recipient])
		}
	}
	if len(got) != len(want) {
		t.Errorf("server received %d messages, want %d", len(got), len(want))
	}
}

type parsedMail struct {
	header     mail.Header
	text, html string
}

// parseMail reads a received message the way a mail client does.
func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	p := parsedMail{header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var order []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		order = append(order, ct)
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Fatalf("parts = %v, want text/plain then text/html", order)
	}
	return p
}

func TestDeliverEmailOverSMTP(t *testing.T) {
	srv := newMailServer(t)
	f := newFixture(t, Options{SMTPURL: srv.url("smtp")})
	ctx := context.Background()
	org, _ := f.svc.Org(ctx, f.db)
	u := store.User{Username: "alice", RealName: "Alice <b>A</b>\r\nBcc: victim@example.net", Email: "alice@example.com"}
	custom := &Text{Subject: "Hello {realname}", Body: "Hi {realname} ({username}, {email}),\n\nopen {link} before {expires}.\n\n{org}"}
	m := EnrollmentEmail(org, u, "https://portal.example/enroll/abc?x=1&y=2", time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC), custom)
	m.IntentKey = EnrollLinkIntent(1, 1)
	if _, err := Enqueue(ctx, f.db, m, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The same intent written again (a double-submitted form) stays one email.
	if ok, err := Enqueue(ctx, f.db, m, f.clock.Now()); err != nil || ok {
		t.Fatalf("second enqueue of one intent = %v, %v", ok, err)
	}
	if sum := f.deliver(t); sum.Sent != 1 || sum.Claimed != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	got := srv.messages()
	if len(got) != 1 || got[0].From != "portal@example.org" || strings.Join(got[0].To, ",") != "alice@example.com" {
		t.Fatalf("received = %+v", got)
	}
	p := parseMail(t, got[0].Data)
	subject, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	if err != nil || subject != "Hello Alice <b>A</b> Bcc: victim@example.net" {
		t.Errorf("Subject = %q (%v)", subject, err)
	}
	if p.header.Get("Bcc") != "" || p.header.Get("To") != "<alice@example.com>" {
		t.Errorf("headers injected or wrong: Bcc=%q To=%q", p.header.Get("Bcc"), p.header.Get("To"))
	}
	if p.header.Get("Auto-Submitted") != "auto-generated" || !strings.HasPrefix(p.header.Get("Message-Id"), "<outbox-") {
		t.Errorf("Auto-Submitted=%q Message-Id=%q", p.header.Get("Auto-Submitted"), p.header.Get("Message-Id"))
	}
	header := DefaultHeader("Example Org")
	wantText := header + "\n\nHi Alice <b>A</b> Bcc: victim@example.net (alice, alice@example.com),\n\n" +
		"open https://portal.example/enroll/abc?x=1&y=2 before 1 April 2026, 12:00 UTC.\n\nExample Org\n"
	if strings.ReplaceAll(p.text, "\r\n", "\n") != wantText {
		t.Errorf("text part =\n%q\nwant\n%q", p.text, wantText)
	}
	for _, want := range []string{
		html_escape(header),
		"Hi Alice &lt;b&gt;A&lt;/b&gt; Bcc: victim@example.net (alice, alice@example.com),",
		`open <a href="https://portal.example/enroll/abc?x=1&amp;y=2">https://portal.example/enroll/abc?x=1&amp;y=2</a> before`,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, p.html)
		}
	}
	row, err := f.db.MessageByID(ctx, 1)
	if err != nil || row.Status != store.MessageSent || row.SentAt == nil || !row.SentAt.Equal(start) || row.Attempts != 1 || row.ClaimedUntil != nil {
		t.Errorf("row after delivery = %+v, %v", row, err)
	}
	// The delivered link, a bearer secret, does not stay in the database.
	if strings.Contains(row.BodyText+row.BodyHTML, "enroll/abc") ||
		!strings.Contains(row.BodyText, "open https://portal.example/[link removed after delivery] before") ||
		!strings.Contains(row.BodyHTML, `href="https://portal.example/[link removed after delivery]"`) {
		t.Errorf("stored bodies after delivery:\n%s\n%s", row.BodyText, row.BodyHTML)
	}
	// A second pass finds nothing to send.
	if sum := f.deliver(t); sum.Claimed != 0 || len(srv.messages()) != 1 {
		t.Errorf("second pass = %+v, received %d", sum, len(srv.messages()))
	}
}

func html_escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;").Replace(s)
}

func TestMailServerDownThenUpDeliversEachOnce(t *testing.T) {
	srv := newMailServer(t)
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), BatchSize: 16})
	want := f.enqueueEmails(t, 40)
	srv.stop()

	// Down: every message is tried once and waits 30 s.
	for {
		sum := f.deliver(t)
		if sum.Claimed == 0 {
			break
		}
		if sum.Sent != 0 || sum.Retrying != sum.Claimed {
			t.Fatalf("with the server down: %+v", sum)
		}
	}
	rows, _, err := f.db.ListMessages(context.Background(), store.MessageFilter{Status: store.MessagePending, Limit: 100})
	if err != nil || len(rows) != 40 {
		t.Fatalf("pending rows = %d, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.Attempts != 1 || !r.NextAttemptAt.Equal(start.Add(30*time.Second)) || !strings.Contains(r.LastError, "connect to the SMTP server 127.0.0.1:") {
			t.Fatalf("row after a failed attempt = %+v", r)
		}
	}
	if sum := f.deliver(t); sum.Claimed != 0 {
		t.Fatalf("retried before the backoff ended: %+v", sum)
	}

	// A second failed round doubles the wait.
	f.clock.Advance(30 * time.Second)
	for f.deliver(t).Claimed > 0 {
	}
	rows, _, _ = f.db.ListMessages(context.Background(), store.MessageFilter{Limit: 1})
	if rows[0].Attempts != 2 || !rows[0].NextAttemptAt.Equal(f.clock.Now().Add(time.Minute)) {
		t.Fatalf("after two failures: %+v", rows[0])
	}

	srv.start()
	f.clock.Advance(time.Minute)
	for f.deliver(t).Claimed > 0 {
	}
	f.clock.Advance(24 * time.Hour)
	f.deliver(t)
	if c := f.counts(t); c[store.MessageSent] != 40 || len(c) != 1 {
		t.Errorf("statuses = %v, want 40 sent", c)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

func TestWorkerStoppedMidBatchLosesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := newMailServer(t, func(m *mailServer) {
		m.onData = func(n int) {
			if n == 10 {
				cancel() // the portal is told to stop while a batch is in flight
			}
		}
	})
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), BatchSize: 50, Senders: 2})
	want := f.enqueueEmails(t, 50)

	sum, err := f.svc.DeliverDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Claimed != 50 || sum.Sent < 10 || sum.Released == 0 || sum.Sent+sum.Released != 50 || sum.Retrying != 0 {
		t.Fatalf("stopped pass = %+v", sum)
	}
	c := f.counts(t)
	if c[store.MessageSent] != sum.Sent || c[store.MessagePending] != sum.Released || c[store.MessageSending] != 0 {
		t.Fatalf("statuses after the stop = %v (summary %+v)", c, sum)
	}
	rows, _, _ := f.db.ListMessages(context.Background(), store.MessageFilter{Status: store.MessagePending, Limit: 100})
	for _, r := range rows {
		if r.Attempts != 0 {
			t.Fatalf("a released message counts an attempt: %+v", r)
		}
	}

	// The restarted portal sends the rest, at once (no backoff for them).
	f.restart(t)
	for f.deliver(t).Claimed > 0 {
	}
	if c := f.counts(t); c[store.MessageSent] != 50 {
		t.Errorf("statuses = %v", c)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

func TestCrashedWorkerClaimIsRetriedAfterLease(t *testing.T) {
	srv := newMailServer(t)
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), Lease: 5 * time.Minute})
	want := f.enqueueEmails(t, 12)
	ctx := context.Background()

	// A worker claims 8 messages and dies (power cut) before sending any.
	now := f.clock.Now()
	dead, err := f.db.ClaimMessages(ctx, "", []string{store.ChannelEmail}, now, now.Add(5*time.Minute), 8)
	if err != nil || len(dead) != 8 {
		t.Fatalf("claim = %d, %v", len(dead), err)
	}
	// Another worker leaves them alone while the lease lasts.
	if sum := f.deliver(t); sum.Claimed != 4 || sum.Sent != 4 {
		t.Fatalf("pass during the lease = %+v", sum)
	}
	f.clock.Advance(5*time.Minute - time.Second)
	if sum := f.deliver(t); sum.Claimed != 0 {
		t.Fatalf("claimed before the lease ended: %+v", sum)
	}
	f.clock.Advance(time.Second)
	if sum := f.deliver(t); sum.Claimed != 8 || sum.Sent != 8 {
		t.Fatalf("pass after the lease = %+v", sum)
	}
	// The dead worker's claim no longer holds: had it come back, it could not
	// mark or release what the other worker took over.
	if ok, err := f.db.MarkMessageSent(ctx, dead[0].ID, *dead[0].ClaimedUntil, f.clock.Now(), "", ""); err != nil || ok {
		t.Errorf("stale claim marked a message: %v %v", ok, err)
	}
	if ok, err := f.db.ReleaseMessage(ctx, dead[1].ID, *dead[1].ClaimedUntil, f.clock.Now()); err != nil || ok {
		t.Errorf("stale claim released a message: %v %v", ok, err)
	}
	row, _ := f.db.MessageByID(ctx, dead[0].ID)
	if row.Attempts != 2 || row.Status != store.MessageSent {
		t.Errorf("taken-over row = %+v, want sent on its second attempt", row)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

func TestRetriesBackOffThenFailThenRetryNow(t *testing.T) {
	srv := newMailServer(t, func(m *mailServer) { m.failData = 1000 })
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), MaxAttempts: 4})
	f.enqueueEmails(t, 1)
	ctx := context.Background()
	for attempt := 1; attempt <= 4; attempt++ {
		if sum := f.deliver(t); sum.Claimed != 1 {
			t.Fatalf("attempt %d: %+v", attempt, sum)
		}
		row, _ := f.db.MessageByID(ctx, 1)
		if !strings.Contains(row.LastError, "451") || row.Attempts != attempt {
			t.Fatalf("attempt %d: %+v", attempt, row)
		}
		// The delivery was recorded as the "." went out, before the 451:
		// the refusal undid it, link and all, ready to be sent again.
		if row.SentAt != nil || !strings.Contains(row.BodyText, "https://portal.example/enroll/tok0") ||
			!strings.Contains(row.BodyHTML, "https://portal.example/enroll/tok0") {
			t.Fatalf("attempt %d: the refused message is not as queued: sent at %v, text %q", attempt, row.SentAt, row.BodyText)
		}
		if attempt < 4 {
			if row.Status != store.MessagePending || !row.NextAttemptAt.Equal(f.clock.Now().Add(Backoff(attempt))) {
				t.Fatalf("attempt %d: %+v", attempt, row)
			}
			f.clock.Advance(Backoff(attempt))
		} else if row.Status != store.MessageFailed {
			t.Fatalf("after the last attempt: %+v", row)
		}
	}
	f.clock.Advance(24 * time.Hour)
	if sum := f.deliver(t); sum.Claimed != 0 {
		t.Fatalf("a failed message was retried by itself: %+v", sum)
	}

	// An admin fixes the server and retries it.
	srv.mu.Lock()
	srv.failData = 0
	srv.mu.Unlock()
	if err := f.db.RetryMessageNow(ctx, 1, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if sum := f.deliver(t); sum.Sent != 1 {
		t.Fatalf("after retry now: %+v", sum)
	}
	if err := f.db.RetryMessageNow(ctx, 1, f.clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retrying a sent message = %v, want ErrNotFound", err)
	}
	if len(srv.messages()) != 1 {
		t.Errorf("received %d", len(srv.messages()))
	}
}

func TestUnknownRecipientFailsAtOnce(t *testing.T) {
	srv := newMailServer(t, func(m *mailServer) { m.reject["user001@example.com"] = true })
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), Senders: 1})
	f.enqueueEmails(t, 3)
	if sum := f.deliver(t); sum.Sent != 2 || sum.Failed != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	row, _ := f.db.MessageByID(context.Background(), 2)
	if row.Status != store.MessageFailed || row.Attempts != 1 || !strings.Contains(row.LastError, "550") {
		t.Errorf("rejected row = %+v", row)
	}
}

// TestRefusedAfterDataFailsAtOnce: a 554 to the end of DATA is the server's
// final word on the message, so it is marked failed on its first attempt
// rather than retried ten times; the other messages of the session go on.
func TestRefusedAfterDataFailsAtOnce(t *testing.T) {
	srv := newMailServer(t, func(m *mailServer) { m.refuse["user001@example.com"] = true })
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), Senders: 1})
	f.enqueueEmails(t, 3)
	if sum := f.deliver(t); sum.Sent != 2 || sum.Failed != 1 || sum.Retrying != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	row, _ := f.db.MessageByID(context.Background(), 2)
	if row.Status != store.MessageFailed || row.Attempts != 1 || !strings.Contains(row.LastError, "554") ||
		row.SentAt != nil || !strings.Contains(row.BodyText, "https://portal.example/enroll/tok1") {
		t.Errorf("refused row = %+v", row)
	}
	if len(srv.messages()) != 2 {
		t.Errorf("received %d, want the two others", len(srv.messages()))
	}
	f.clock.Advance(time.Hour)
	if sum := f.deliver(t); sum.Claimed != 0 {
		t.Errorf("the refused message was tried again: %+v", sum)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestSMTPWithCredentialsUsesSTARTTLS(t *testing.T) {
	cfg, pool := testCert(t)
	srv := newMailServer(t, func(m *mailServer) { m.tls, m.user, m.pass = cfg, "portal", "s3cret:/@" })
	u := "smtp://portal:" + urlEscape("s3cret:/@") + "@" + srv.addr
	f := newFixture(t, Options{SMTPURL: u, SMTPRootCAs: pool})
	want := f.enqueueEmails(t, 2)
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	assertDeliveredOnce(t, srv.messages(), want)
	if len(srv.authed) == 0 || srv.authed[0] != "portal" {
		t.Errorf("authenticated as %v", srv.authed)
	}
}

func TestSMTPWithCredentialsRefusesPlainConnection(t *testing.T) {
	// No STARTTLS offered: the password must not be sent in clear.
	srv := newMailServer(t, func(m *mailServer) { m.user, m.pass = "portal", "secret" })
	f := newFixture(t, Options{SMTPURL: "smtp://portal:secret@" + srv.addr})
	f.enqueueEmails(t, 1)
	if sum := f.deliver(t); sum.Retrying != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	row, _ := f.db.MessageByID(context.Background(), 1)
	if !strings.Contains(row.LastError, "STARTTLS") || len(srv.authed) != 0 || len(srv.messages()) != 0 {
		t.Errorf("row = %+v, authed = %v", row, srv.authed)
	}
}

func TestSMTPSImplicitTLS(t *testing.T) {
	cfg, pool := testCert(t)
	srv := newMailServer(t, func(m *mailServer) { m.tls, m.implicit = cfg, true })
	f := newFixture(t, Options{SMTPURL: srv.url("smtps"), SMTPRootCAs: pool})
	want := f.enqueueEmails(t, 3)
	if sum := f.deliver(t); sum.Sent != 3 {
		t.Fatalf("summary = %+v", sum)
	}
	assertDeliveredOnce(t, srv.messages(), want)

	// An untrusted certificate is an error, not a silent downgrade.
	g := newFixture(t, Options{SMTPURL: srv.url("smtps")})
	g.enqueueEmails(t, 1)
	if sum := g.deliver(t); sum.Retrying != 1 {
		t.Fatalf("untrusted certificate: %+v", sum)
	}
}

func TestRunStopsOnCancelAndSaysWhatIsNotConfigured(t *testing.T) {
	var logs logbuf.SafeBuffer
	f := newFixture(t, Options{Log: newTextLogger(&logs)})
	f.enqueueEmails(t, 1)
	done := make(chan struct{})
	go func() { f.svc.Run(context.Background()); close(done) }()
	<-done // nothing configured: returns at once
	for _, want := range []string{"no SMTP server configured", "emails stay in the outbox", "no SMS gateway configured"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if c := f.counts(t); c[store.MessagePending] != 1 {
		t.Errorf("statuses = %v", c)
	}

	srv := newMailServer(t)
	g := newFixture(t, Options{SMTPURL: srv.url("smtp"), PollEvery: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { g.svc.Run(ctx); close(done) }()
	g.enqueueEmails(t, 3)
	g.svc.Wake()
	for deadline := time.Now().Add(10 * time.Second); len(srv.messages()) < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if c := g.counts(t); c[store.MessageSent] != 3 {
		t.Errorf("statuses = %v", c)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	cases := []Options{
		{SMTPURL: "http://mail.example", MailFrom: "a@example.org"},
		{SMTPURL: "smtp://", MailFrom: "a@example.org"},
		{SMTPURL: "smtp://mail.example:99999", MailFrom: "a@example.org"},
		{SMTPURL: "smtp://mail.example"},
		{SMTPURL: "smtp://mail.example", MailFrom: "not an address"},
		{SMTPURL: "smtp://mail.example", MailFrom: "a@example.org\r\nBcc: b@example.org"},
		{SMSURL: "ftp://sms.example"},
		{SMSURL: "https://"},
		{SMSURL: "twilio://sms.example"},
		{SMSURL: "twilio://ACxxx@15551234567"},
		{SMSURL: "twilio://ACxxx:token@"},
	}
	for _, o := range cases {
		o.Store = nil
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestSlowServerHandsBackWhatTheLeaseCannotCover(t *testing.T) {
	var f *fixture
	srv := newMailServer(t, func(m *mailServer) {
		m.onData = func(n int) {
			if n == 1 {
				f.clock.Advance(4*time.Minute + 40*time.Second) // the first message took most of the lease
			}
		}
	})
	f = newFixture(t, Options{SMTPURL: srv.url("smtp"), Senders: 1, Lease: 5 * time.Minute})
	want := f.enqueueEmails(t, 3)
	if sum := f.deliver(t); sum.Sent != 1 || sum.Released != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	if sum := f.deliver(t); sum.Sent != 2 {
		t.Fatalf("next pass = %+v", sum)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

// TestCrashAfterGiveResendsWithTheSameMessageID pins the one window the
// notes on deliver admit: the worker wrote the "." that ends DATA (and the
// server accepted the message) and died before recording it. The message
// is sent again after the lease, under the same Message-ID, so a mailbox
// that collapses duplicates shows it once.
func TestCrashAfterGiveResendsWithTheSameMessageID(t *testing.T) {
	srv := newMailServer(t)
	f := newFixture(t, Options{SMTPURL: srv.url("smtp"), Lease: time.Minute})
	f.enqueueEmails(t, 1)
	ctx := context.Background()
	now := f.clock.Now()
	claimed, err := f.db.ClaimMessages(ctx, "", []string{store.ChannelEmail}, now, now.Add(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	sess, err := f.svc.transports[store.ChannelEmail].open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sess.prepare(ctx, claimed[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := h.give(); err != nil {
		t.Fatal(err)
	}
	if err := h.answer(); err != nil {
		t.Fatal(err)
	}
	sess.close() // ...and the process dies here, before MarkMessageSent.

	f.clock.Advance(time.Minute)
	if sum := f.deliver(t); sum.Sent != 1 {
		t.Fatalf("after the lease = %+v", sum)
	}
	got := srv.messages()
	if len(got) != 2 {
		t.Fatalf("received %d, want the message and its one repeat", len(got))
	}
	first, second := parseMail(t, got[0].Data), parseMail(t, got[1].Data)
	if id := first.header.Get("Message-Id"); id == "" || id != second.header.Get("Message-Id") {
		t.Errorf("Message-IDs differ: %q vs %q", id, second.header.Get("Message-Id"))
	}
	if f.deliver(t).Claimed != 0 || f.counts(t)[store.MessageSent] != 1 {
		t.Errorf("the message is not finished: %v", f.counts(t))
	}
}
