package notify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server on a loopback port that records what it
// receives. It can be stopped and started again on the same port, to play a
// mail server that goes down.
type mailServer struct {
	t    testing.TB
	addr string
	// tls, when set, offers STARTTLS (or serves implicit TLS with implicit).
	tls      *tls.Config
	implicit bool
	// user/pass, when set, require AUTH PLAIN.
	user, pass string

	mu       sync.Mutex
	srv      *smtp.Server
	received []received
	authed   []string
	failData int             // answer 451 to the next failData DATA commands
	reject   map[string]bool // recipients answered 550
	refuse   map[string]bool // recipients whose message is answered 554 after DATA
	onData   func(n int)     // called after the n-th message was accepted
}

type received struct {
	From string
	To   []string
	Data []byte
}

func newMailServer(t testing.TB, configure ...func(*mailServer)) *mailServer {
	t.Helper()
	m := &mailServer{t: t, reject: map[string]bool{}, refuse: map[string]bool{}}
	for _, c := range configure {
		c(m)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	m.serve(ln)
	t.Cleanup(m.stop)
	return m
}

func (m *mailServer) serve(ln net.Listener) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = m.tls == nil
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = discardLogger{}
	if m.tls != nil {
		s.TLSConfig = m.tls
		if m.implicit {
			ln = tls.NewListener(ln, m.tls)
		}
	}
	m.mu.Lock()
	m.srv = s
	m.mu.Unlock()
	go s.Serve(ln)
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// stop closes the listener and every connection: the server is down.
func (m *mailServer) stop() {
	m.mu.Lock()
	s := m.srv
	m.srv = nil
	m.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// start brings a stopped server back on the same port.
func (m *mailServer) start() {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", m.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		m.t.Fatal(err)
	}
	m.serve(ln)
}

func (m *mailServer) url(scheme string) string { return scheme + "://" + m.addr }

func (m *mailServer) messages() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.received...)
}

type mailSession struct {
	m      *mailServer
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string {
	if s.m.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.m.user || pass != s.m.pass {
			return errors.New("invalid credentials")
		}
		s.authed = true
		s.m.mu.Lock()
		s.m.authed = append(s.m.authed, user)
		s.m.mu.Unlock()
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.m.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.reject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	if s.m.failData > 0 {
		s.m.failData--
		s.m.mu.Unlock()
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	for _, to := range s.to {
		if s.m.refuse[to] {
			s.m.mu.Unlock()
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message content refused"}
		}
	}
	s.m.received = append(s.m.received, received{From: s.from, To: s.to, Data: bytes.Clone(data)})
	n, hook := len(s.m.received), s.m.onData
	s.m.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// testCert makes a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
func testCert(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
