package testkit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"enrollportal/internal/config"
)

// Inbox is a real SMTP server on a loopback port that keeps every email it
// is sent, for tests that follow a message from the outbox to its reader.
type Inbox struct {
	Addr string
	t    testing.TB
	// answerAfter is how long the server waits after taking an email
	// before it says so (NewSlowInbox).
	answerAfter time.Duration
	mu          sync.Mutex
	mail        []Mail
}

// Mail is one received email.
type Mail struct {
	To   []string
	Raw  []byte
	Text string // the decoded text/plain part, as a mail program shows it
}

// NewInbox starts an SMTP server on 127.0.0.1:0 until the test ends.
func NewInbox(t testing.TB) *Inbox {
	t.Helper()
	return NewSlowInbox(t, 0)
}

// NewSlowInbox is NewInbox whose answer to each email comes answerAfter
// after it has kept it, as a busy relay answers: deliveries take long
// enough for several workers to share them, and a sender killed meanwhile
// never learns that its email arrived.
func NewSlowInbox(t testing.TB, answerAfter time.Duration) *Inbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &Inbox{Addr: ln.Addr().String(), t: t, answerAfter: answerAfter}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in
}

// Messages returns what has arrived so far.
func (in *Inbox) Messages() []Mail {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Mail(nil), in.mail...)
}

// Count is how many emails have arrived.
func (in *Inbox) Count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.mail)
}

type inboxSession struct {
	in *Inbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	text, err := PlainText(raw)
	if err != nil {
		s.in.t.Errorf("unreadable email: %v\n%s", err, raw)
	}
	s.in.mu.Lock()
	s.in.mail = append(s.in.mail, Mail{To: s.to, Raw: raw, Text: text})
	s.in.mu.Unlock()
	time.Sleep(s.in.answerAfter)
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

// PlainText returns the decoded text/plain part of a raw email.
func PlainText(raw []byte) (string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	return textOf(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
}

func textOf(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return "", err
			}
			if t, err := textOf(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err == nil && t != "" {
				return t, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(encoding) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

// SMSGateway is a JSON webhook that records the texts the portal sends.
type SMSGateway struct {
	URL   string
	mu    sync.Mutex
	texts []SMS
}

// SMS is one text the gateway received.
type SMS struct {
	To, Body, Intent string
}

// NewSMSGateway starts the webhook until the test ends.
func NewSMSGateway(t testing.TB) *SMSGateway { return NewSlowSMSGateway(t, 0) }

// NewSlowSMSGateway is NewSMSGateway whose answer comes answerAfter after
// it has taken the text, as a gateway across the internet answers: a
// sender killed in that time never learns that its text went out.
func NewSlowSMSGateway(t testing.TB, answerAfter time.Duration) *SMSGateway {
	t.Helper()
	g := &SMSGateway{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.texts = append(g.texts, SMS{To: m.To, Body: m.Body, Intent: r.Header.Get("Idempotency-Key")})
		g.mu.Unlock()
		time.Sleep(answerAfter)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Received returns the texts so far.
func (g *SMSGateway) Received() []SMS {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]SMS(nil), g.texts...)
}

// WithDelivery points the portal's outbox worker at an inbox and an SMS
// gateway (either may be nil).
func WithDelivery(in *Inbox, g *SMSGateway) Option {
	return func(s *config.Settings) {
		if in != nil {
			s.SMTPURL, s.MailFrom = "smtp://"+in.Addr, "portal@example.org"
		}
		if g != nil {
			s.SMSURL = g.URL
		}
	}
}

// DistinctMessageIDs counts the emails that have arrived by their
// Message-ID, which the outbox keeps when it sends a message again: Count
// minus this is the number of emails that arrived twice.
func (in *Inbox) DistinctMessageIDs() int {
	in.t.Helper()
	ids := map[string]bool{}
	for _, m := range in.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			in.t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")] = true
	}
	return len(ids)
}
