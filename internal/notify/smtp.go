package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
)

// smtpTransport sends email through PORTAL_SMTP_URL:
//
//	smtp://[user:pass@]host[:port]   SMTP with STARTTLS (port 587 by default)
//	smtps://[user:pass@]host[:port]  implicit TLS (port 465 by default)
//	smtp+insecure://host[:port]      SMTP that may send in clear text (port 587)
//
// STARTTLS is mandatory with smtp://, and a server that does not offer it
// is an error, except for a relay on this machine: without credentials, a
// host that is a loopback address, or a name whose addresses are all
// loopback, may be reached in clear text when it offers no STARTTLS (the
// message never leaves the machine on that hop). The portal then connects
// to the loopback address it checked, so a changing DNS answer cannot
// redirect the clear-text connection elsewhere. Any other host needs
// smtp+insecure:// to be sent in clear text, which takes no credentials: a
// password is never sent over a plain connection. The server's certificate
// is always verified.
type smtpTransport struct {
	host     string
	port     int
	implicit bool
	insecure bool // smtp+insecure://: clear text allowed to any host
	user     string
	pass     string
	from     string
	domain   string // of the From address, for Message-IDs
	roots    *x509.CertPool
	timeout  time.Duration
	clock    clock.Clock
	// lookup resolves the host and loopback tells a loopback address; the
	// tests replace loopback to play a remote relay on a local port.
	lookup   func(ctx context.Context, host string) ([]netip.Addr, error)
	loopback func(netip.Addr) bool
}

func newSMTPTransport(rawURL, from string, roots *x509.CertPool, c clock.Clock) (*smtpTransport, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("notify: PORTAL_SMTP_URL is not a URL")
	}
	t := &smtpTransport{host: u.Hostname(), roots: roots, timeout: 20 * time.Second, clock: c,
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		loopback: netip.Addr.IsLoopback,
	}
	switch u.Scheme {
	case "smtp":
		t.port = 587
	case "smtps":
		t.port, t.implicit = 465, true
	case "smtp+insecure":
		t.port, t.insecure = 587, true
		if u.User != nil {
			return nil, errors.New("notify: PORTAL_SMTP_URL: smtp+insecure:// may send in clear text, so it takes no user or password; use smtp:// (STARTTLS) or smtps://")
		}
	default:
		return nil, fmt.Errorf("notify: PORTAL_SMTP_URL must start with smtp://, smtps:// or smtp+insecure://, not %q", u.Scheme+"://")
	}
	if t.host == "" {
		return nil, errors.New("notify: PORTAL_SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		if t.port, err = strconv.Atoi(p); err != nil || t.port < 1 || t.port > 65535 {
			return nil, fmt.Errorf("notify: PORTAL_SMTP_URL has a bad port %q", p)
		}
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
	}
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("notify: PORTAL_MAIL_FROM is required when PORTAL_SMTP_URL is set")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("notify: PORTAL_MAIL_FROM %q is not an email address", from)
	}
	t.from = from
	t.domain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return t, nil
}

func (t *smtpTransport) channel() string { return store.ChannelEmail }

func (t *smtpTransport) describe() string {
	scheme := "smtp"
	switch {
	case t.implicit:
		scheme = "smtps"
	case t.insecure:
		scheme = "smtp+insecure"
	}
	return scheme + "://" + net.JoinHostPort(t.host, strconv.Itoa(t.port))
}

// loopbackAddrs returns the host's addresses when every one of them is a
// loopback address, and nil otherwise (or when the name does not resolve).
func (t *smtpTransport) loopbackAddrs(ctx context.Context) []netip.Addr {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(t.host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = t.lookup(ctx, t.host); err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		if !t.loopback(a.Unmap()) {
			return nil
		}
	}
	return addrs
}

// dialFirst connects to the first of addrs that answers, on the
// transport's port.
func (t *smtpTransport) dialFirst(addrs []netip.Addr) gomail.DialContextFunc {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Timeout: t.timeout}
		var err error
		for _, a := range addrs {
			var c net.Conn
			if c, err = d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(t.port)).String()); err == nil {
				return c, nil
			}
		}
		return nil, err
	}
}

func (t *smtpTransport) open(ctx context.Context) (session, error) {
	tlsConfig := &tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12, RootCAs: t.roots}
	opts := []gomail.Option{
		gomail.WithPort(t.port),
		gomail.WithTimeout(t.timeout),
		gomail.WithTLSConfig(tlsConfig),
		// A session lives for one batch share, seconds, so a NOOP before
		// every message buys little; a connection that did die fails the
		// send, which is retried like any other failure.
		gomail.WithoutNoop(),
	}
	switch {
	case t.implicit:
		opts = append(opts, gomail.WithSSL())
	case t.user != "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case t.insecure:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		if local := t.loopbackAddrs(ctx); local != nil {
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithDialContextFunc(t.dialFirst(local)))
		} else {
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		}
	}
	if t.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(t.user), gomail.WithPassword(t.pass))
	}
	c, err := gomail.NewClient(t.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	// go-mail dials, says EHLO, starts TLS and signs in; the session then
	// speaks MAIL, RCPT and DATA itself, to hold the final "." of DATA
	// until the worker is ready to record the answer (see prepare).
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// host:port, not the URL: a recorded reason loses every URL.
		return nil, fmt.Errorf("connect to the SMTP server %s: %w", net.JoinHostPort(t.host, strconv.Itoa(t.port)), err)
	}
	return &smtpSession{t: t, c: sc}, nil
}

type smtpSession struct {
	t     *smtpTransport
	c     *smtp.Client
	isBad bool
}

// prepare sends the envelope and the message's text, all but the "." that
// ends DATA. The hand-off's give writes that "." and flushes it to the
// socket without waiting; its answer reads the server's reply. The server
// takes responsibility for the message only when it has the ".", so
// nothing before give can deliver it: a process killed before then leaves
// the server half a message and a closed connection, which it discards.
//
// Permanent failures (the message would be refused again): a 5xx to RCPT
// TO (no such mailbox), and a 5xx to DATA or to its end (for example 554:
// the content is refused). A 4xx, or a connection that broke, is retried.
func (s *smtpSession) prepare(_ context.Context, m store.Message) (handOff, error) {
	msg, err := s.t.build(m)
	if err != nil {
		return handOff{}, permanent(err)
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return handOff{}, permanent(err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return handOff{}, permanent(err)
	}
	if err := s.c.UpdateDeadline(s.t.timeout); err != nil {
		s.isBad = true
		return handOff{}, err
	}
	if err := s.c.Mail(from); err != nil {
		return handOff{}, s.refused("MAIL FROM", err, false)
	}
	for _, r := range rcpts {
		if err := s.c.Rcpt(r); err != nil {
			return handOff{}, s.refused("RCPT TO", err, true)
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return handOff{}, s.refused("DATA", err, true)
	}
	dc, ok := w.(*smtp.DataCloser)
	if !ok {
		// go-mail's Data has always answered a *DataCloser; a version that
		// does not would have to be read before it is trusted here.
		s.isBad = true
		return handOff{}, fmt.Errorf("smtp: DATA answered a %T, not go-mail's DataCloser", w)
	}
	if _, err := msg.WriteTo(dc); err != nil {
		s.isBad = true // half a message on the wire: start afresh
		return handOff{}, fmt.Errorf("smtp: writing the message: %w", err)
	}
	return handOff{
		give: func() error {
			// The dot-writer's Close writes the final "." and flushes.
			if err := dc.WriteCloser.Close(); err != nil {
				s.isBad = true
				return fmt.Errorf("smtp: ending DATA: %w", err)
			}
			return nil
		},
		answer: func() error {
			if _, _, err := s.c.Text.ReadResponse(250); err != nil {
				var te *textproto.Error
				if !errors.As(err, &te) {
					s.isBad = true
				}
				// After the answer to the final ".", the transaction is
				// over and the connection ready for the next one.
				return s.classify("end of DATA", err, true)
			}
			return nil
		},
	}, nil
}

// refused handles the server's refusal of a command before DATA ended: the
// transaction is reset for the next message.
func (s *smtpSession) refused(step string, err error, fiveIsPermanent bool) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		s.isBad = true // not an answer: the connection broke
	} else if rerr := s.c.Reset(); rerr != nil {
		s.isBad = true
	}
	return s.classify(step, err, fiveIsPermanent)
}

func (s *smtpSession) classify(step string, err error, fiveIsPermanent bool) error {
	err = fmt.Errorf("smtp: %s: %w", step, err)
	var te *textproto.Error
	if fiveIsPermanent && errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return permanent(err)
	}
	return err
}

func (s *smtpSession) broken() bool { return s.isBad }
func (s *smtpSession) close() error {
	if s.isBad {
		return s.c.Close()
	}
	return s.c.Quit()
}

// build turns an outbox row into a MIME message: multipart/alternative with
// the plain-text part first and the HTML part second.
func (t *smtpTransport) build(m store.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(t.from); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if strings.ContainsAny(m.Recipient, "\r\n,;") {
		return nil, fmt.Errorf("recipient %q is not one address", m.Recipient)
	}
	if err := msg.To(m.Recipient); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	// The composer never puts a line break in a subject; this is the last
	// line of defence against header injection for rows written otherwise.
	msg.Subject(oneLine(m.Subject))
	msg.SetMessageIDWithValue(messageID(m, t.domain))
	msg.SetDateWithValue(t.clock.Now())
	// RFC 3834: tells auto-responders (out-of-office) not to answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.BodyText)
	if m.BodyHTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.BodyHTML)
	}
	return msg, nil
}

// messageID is stable for one outbox row, so that the rare second delivery
// after a crash (see worker.go) carries the same Message-ID as the first, and
// mail systems that collapse duplicates by Message-ID show it once.
func messageID(m store.Message, domain string) string {
	sum := sha256.Sum256([]byte(m.IntentKey))
	return fmt.Sprintf("outbox-%d.%s@%s", m.ID, hex.EncodeToString(sum[:8]), domain)
}
