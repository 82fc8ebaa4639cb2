package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"enrollportal/internal/config"
	"enrollportal/internal/testkit"
)

// bulkInbox is a real SMTP server on a loopback port that keeps what it gets.
type bulkInbox struct {
	mu   sync.Mutex
	to   []string
	data [][]byte
	addr string
}

type bulkInboxSession struct {
	in *bulkInbox
	to []string
}

func (s *bulkInboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *bulkInboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *bulkInboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.to = append(s.in.to, s.to...)
	s.in.data = append(s.in.data, b)
	return nil
}
func (s *bulkInboxSession) Reset()        { s.to = nil }
func (s *bulkInboxSession) Logout() error { return nil }

func newBulkInbox(t *testing.T) *bulkInbox {
	t.Helper()
	in := &bulkInbox{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = ln.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &bulkInboxSession{in: in}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in
}

func (in *bulkInbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.data)
}

// smsGateway is an HTTP webhook that records the texts the portal sends.
type smsGateway struct {
	mu    sync.Mutex
	texts []smsText
	srv   *httptest.Server
}

type smsText struct {
	To, Body, Intent string
}

func newSMSGateway(t *testing.T) *smsGateway {
	t.Helper()
	g := &smsGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.texts = append(g.texts, smsText{To: m.To, Body: m.Body, Intent: r.Header.Get("Idempotency-Key")})
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *smsGateway) received() []smsText {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]smsText(nil), g.texts...)
}

// withDelivery points the portal's outbox worker at the inbox and gateway.
func withDelivery(in *bulkInbox, g *smsGateway) testkit.Option {
	return func(s *config.Settings) {
		if in != nil {
			s.SMTPURL, s.MailFrom = "smtp://"+in.addr, "portal@example.org"
		}
		if g != nil {
			s.SMSURL = g.srv.URL
		}
	}
}

// deliver runs the outbox worker until nothing is due (the fake clock does
// not move, so only messages due now go out).
func deliver(t *testing.T, p *testkit.Portal) {
	t.Helper()
	for i := 0; i < 100; i++ {
		sum, err := p.Notify.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Failed > 0 || sum.Retrying > 0 {
			t.Fatalf("delivery failed: %+v", sum)
		}
		if sum.Claimed == 0 {
			return
		}
	}
	t.Fatal("the outbox did not drain")
}
