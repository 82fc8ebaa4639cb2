package notify

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"enrollportal/internal/store"
)

// playRemote makes the email transport of f treat every address as remote,
// so that the in-process server on a loopback port plays a relay on
// another machine.
func playRemote(t *testing.T, f *fixture) {
	t.Helper()
	tr, ok := f.svc.transports[store.ChannelEmail].(*smtpTransport)
	if !ok {
		t.Fatal("no SMTP transport")
	}
	tr.loopback = func(netip.Addr) bool { return false }
}

func TestSMTPToARemoteRelayRequiresSTARTTLS(t *testing.T) {
	srv := newMailServer(t) // offers no STARTTLS
	f := newFixture(t, Options{SMTPURL: srv.url("smtp")})
	playRemote(t, f)
	f.enqueueEmails(t, 1)
	if sum := f.deliver(t); sum.Retrying != 1 || sum.Sent != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	if got := srv.messages(); len(got) != 0 {
		t.Fatalf("sent %d messages in clear text to a remote relay", len(got))
	}
	row, _ := f.db.MessageByID(context.Background(), 1)
	if !strings.Contains(row.LastError, "STARTTLS") {
		t.Errorf("last error does not say STARTTLS is missing: %q", row.LastError)
	}

	// smtp+insecure:// says clear text is intended.
	g := newFixture(t, Options{SMTPURL: srv.url("smtp+insecure")})
	playRemote(t, g)
	want := g.enqueueEmails(t, 2)
	if sum := g.deliver(t); sum.Sent != 2 {
		t.Fatalf("smtp+insecure summary = %+v", sum)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

func TestSMTPToALocalRelayMaySendInClearText(t *testing.T) {
	srv := newMailServer(t) // offers no STARTTLS, listens on 127.0.0.1
	port := srv.addr[strings.LastIndexByte(srv.addr, ':')+1:]
	// A name that resolves to loopback only counts as local too.
	f := newFixture(t, Options{SMTPURL: "smtp://localhost:" + port})
	want := f.enqueueEmails(t, 2)
	if sum := f.deliver(t); sum.Sent != 2 {
		row, _ := f.db.MessageByID(context.Background(), 1)
		t.Fatalf("summary = %+v, last error %q", sum, row.LastError)
	}
	assertDeliveredOnce(t, srv.messages(), want)
}

func TestSMTPInsecureTakesNoCredentials(t *testing.T) {
	if _, err := New(Options{SMTPURL: "smtp+insecure://user:pass@mail.example", MailFrom: "a@example.org"}); err == nil ||
		!strings.Contains(err.Error(), "no user or password") {
		t.Fatalf("New = %v", err)
	}
}
