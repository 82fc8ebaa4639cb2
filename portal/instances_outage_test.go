package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/testkit"
)

// cuttableLink forwards TCP connections to a database server until Cut,
// which drops every open connection and refuses new ones, as a network
// partition or a stopped database does, until Restore.
type cuttableLink struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newCuttableLink(t *testing.T, target string) *cuttableLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &cuttableLink{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); l.Cut() })
	go l.serve()
	return l
}

func (l *cuttableLink) serve() {
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		down := l.down
		l.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", l.target)
		if err != nil {
			in.Close()
			continue
		}
		l.mu.Lock()
		l.conns[in], l.conns[out] = true, true
		l.mu.Unlock()
		go func() { io.Copy(out, in); out.Close() }()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

// Cut drops every connection and refuses new ones.
func (l *cuttableLink) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for c := range l.conns {
		c.Close()
	}
	clear(l.conns)
}

// Restore lets connections through again.
func (l *cuttableLink) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}

// TestPostgresUnreachableAnswers503AndLoginsFailClosed: a portal whose
// PostgreSQL becomes unreachable says so on /readyz (503), and refuses
// logins rather than letting anybody through; when the database is back it
// is ready again without a restart, and the right code logs in.
func TestPostgresUnreachableAnswers503AndLoginsFailClosed(t *testing.T) {
	db, err := url.Parse(testkit.StartPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	link := newCuttableLink(t, db.Host)
	db.Host = link.ln.Addr().String()
	c := newCluster(t, db.String(), 1)
	client := c.authAPIClient(t)
	secret := enrollTOTP(t, c.Handle, "ula")
	readyz := func() int {
		t.Helper()
		resp, err := c.Client().Get(c.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitReadyz := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); readyz() != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never answered %d", want)
			}
		}
	}
	if got := readyz(); got != http.StatusOK {
		t.Fatalf("/readyz answered %d with the database up", got)
	}

	link.Cut()
	waitReadyz(http.StatusServiceUnavailable)
	// The APIs answer HTTP 500 in Duo's envelope, so that each client
	// applies its failmode; nobody is let in by the portal.
	code := testkit.TOTPCode(t, secret, time.Now())
	pre, err := client.Preauth(authapi.PreauthUsername("ula"))
	if err != nil || pre.Stat != "FAIL" || pre.Code == nil || *pre.Code != 50001 {
		t.Fatalf("preauth with the database unreachable answered %+v, %v; want FAIL 50001", pre, err)
	}
	res, err := client.Auth("passcode", authapi.AuthUsername("ula"), authapi.AuthPasscode(code))
	if err != nil || res.Stat != "FAIL" || res.Code == nil || *res.Code != 50001 || res.Response.Result == "allow" {
		t.Fatalf("a login with the database unreachable answered %+v, %v; want FAIL 50001", res, err)
	}
	// The enrollment pages fail closed too.
	if r := testkit.NewClientAt(t, c.URL, c.Client().Transport).Get("/enroll/unknown-token-while-down"); r.StatusCode != http.StatusInternalServerError {
		t.Errorf("an enrollment page with the database unreachable answered %d, want 500", r.StatusCode)
	}

	link.Restore()
	waitReadyz(http.StatusOK)
	res, err = client.Auth("passcode", authapi.AuthUsername("ula"), authapi.AuthPasscode(code))
	if err != nil || res.Stat != "OK" || res.Response.Result != "allow" {
		t.Fatalf("the login once the database is back: %+v %v", res, err)
	}
}
