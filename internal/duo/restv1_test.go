package duo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.mongodb.org/mongo-driver/v2/bson"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// loginDuoPath finds Debian's login_duo. The tests never skip: without it
// they fail and say how to install it.
func loginDuoPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("login_duo")
	if err != nil {
		if path, err = exec.LookPath("/usr/sbin/login_duo"); err != nil {
			t.Fatal("login_duo is not installed: apt-get install -y login-duo (Debian's duo_unix 1.11)")
		}
	}
	return path
}

// unixUser is the account login_duo runs for: it must exist on this host
// (login_duo looks it up), and names the portal user.
const unixUser = "daemon"

// loginDuo is Debian's login_duo configured for a portal application.
type loginDuo struct {
	path, conf string
}

// newLoginDuo writes a login_duo.conf (mode 600, as login_duo demands, or
// it fails open) for app at host. One prompt per run, so that a wrong
// passcode ends the run instead of asking again.
func newLoginDuo(t *testing.T, app apps.Created, host, caFile, failmode string) loginDuo {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "login_duo.conf")
	text := "[duo]\nikey = " + app.ClientID + "\nskey = " + app.ClientSecret + "\nhost = " + host +
		"\ncafile = " + caFile + "\nfailmode = " + failmode + "\nhttps_timeout = 5\nprompts = 1\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return loginDuo{path: loginDuoPath(t), conf: conf}
}

// session is one login_duo run under a pseudo-terminal.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

// start runs login_duo for unixUser, asking it to run echo once the login
// succeeds.
func (l loginDuo) start(t *testing.T) *session {
	t.Helper()
	cmd := exec.Command(l.path, "-c", l.conf, "-f", unixUser, "/bin/echo", "COMMAND-RAN")
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				close(s.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		tty.Close()
	})
	return s
}

func (s *session) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitFor waits until the terminal shows text.
func (s *session) waitFor(text string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.output(), text) {
		if time.Now().After(deadline) {
			s.t.Fatalf("terminal never showed %q; it shows %q", text, s.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// typeLine types a line as the user would.
func (s *session) typeLine(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.tty, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

// wait waits for login_duo to exit and returns its exit code and what the
// terminal showed.
func (s *session) wait() (int, string) {
	s.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("login_duo did not exit; terminal shows %q", s.output())
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), s.output()
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return 0, s.output()
}

// loginDuoPortal is a portal over TLS with a unix application and login_duo
// configured for it.
func loginDuoPortal(t *testing.T, newUserPolicy string) (*testkit.Portal, testkit.TLSFiles, loginDuo) {
	t.Helper()
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, newUserPolicy)
	return p, files, newLoginDuo(t, app, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure")
}

var enrollURLPattern = regexp.MustCompile(`Please enroll at (https://localhost:\d+/enroll/\S+)`)

func TestLoginDuoEnrollThenLogInWithPasscode(t *testing.T) {
	p, files, ld := loginDuoPortal(t, store.NewUserRequireEnrollment)
	ctx := context.Background()

	// 1. Not enrolled: the terminal prints where to enroll, and the
	// command does not run.
	code1, out := ld.start(t).wait()
	m := enrollURLPattern.FindStringSubmatch(out)
	if m == nil || code1 == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("unenrolled login: exit %d, terminal %q", code1, out)
	}
	enrollURL := m[1]

	// 2. The URL opens the enrollment page, and names this user.
	resp, err := files.Client().Get(enrollURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrollment URL answered %d", resp.StatusCode)
	}
	claims, err := p.Enroll.OpenInline(strings.TrimPrefix(enrollURL, p.URL+"/enroll/"))
	if err != nil || claims.Username != unixUser {
		t.Fatalf("enrollment URL claims %+v, %v", claims, err)
	}
	// Printing the URL wrote no user and no enrollment link.
	if _, err := p.Store.UserByUsername(ctx, unixUser); err == nil {
		t.Fatal("preauth created the user")
	}

	// 3. The user enrolls an authenticator app through that URL's claims,
	// as the enrollment pages do.
	sub := enroll.Subject{User: enroll.NewSubjectUser(claims.Username), Who: audit.Who{Type: audit.ActorUser, Name: claims.Username}}
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneMobile, Number: "+14155550100", Platform: store.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, code(t, setup.Secret, p.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	p.Clock.Advance(time.Minute)

	// 4. Logging in again asks for a passcode; the right one runs the command.
	s := ld.start(t)
	s.waitFor("Enter the passcode from your authenticator app")
	s.typeLine(code(t, setup.Secret, p.Clock.Now()))
	exit, out := s.wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("login with the right passcode: exit %d, terminal %q", exit, out)
	}

	// 5. A wrong passcode is refused.
	s = ld.start(t)
	s.waitFor("Enter the passcode")
	s.typeLine(wrongCode(t, setup.Secret, p.Clock.Now()))
	exit, out = s.wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "Incorrect passcode") {
		t.Fatalf("login with a wrong passcode: exit %d, terminal %q", exit, out)
	}

	// 6. The same right passcode a second time is a replay, refused.
	p.Clock.Advance(time.Minute)
	good := code(t, setup.Secret, p.Clock.Now())
	for i, wantRan := range []bool{true, false} {
		s = ld.start(t)
		s.waitFor("Enter the passcode")
		s.typeLine(good)
		exit, out = s.wait()
		if ran := exit == 0 && strings.Contains(out, "COMMAND-RAN"); ran != wantRan {
			t.Fatalf("passcode use %d: exit %d, terminal %q", i+1, exit, out)
		}
	}

	actions := auditActions(t, p, unixUser)
	if count(actions, audit.AuthEnrollRequired) != 1 || count(actions, audit.AuthAllowed) != 2 || count(actions, audit.AuthPasscodeFailed) != 2 {
		t.Errorf("audit of %s = %v", unixUser, actions)
	}
}

func TestLoginDuoPolicyOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		newUserPolicy string
		status        string // "" leaves the user unknown
		wantRan       bool
		wantText      string // login_duo prints nothing for allow
	}{
		{"unknown user under allow", store.NewUserAllow, "", true, ""},
		{"unknown user under deny", store.NewUserDeny, "", false, "not enrolled"},
		{"partially enrolled user under allow must enroll", store.NewUserAllow, store.StatusActive, false, "Please enroll at https://"},
		{"bypass user", store.NewUserRequireEnrollment, store.StatusBypass, true, ""},
		{"disabled user", store.NewUserAllow, store.StatusDisabled, false, "disabled"},
		{"locked out user", store.NewUserAllow, store.StatusLockedOut, false, "locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, ld := loginDuoPortal(t, tt.newUserPolicy)
			if tt.status != "" {
				if _, err := p.Users.Create(context.Background(), users.NewUser{Username: unixUser}, audit.CLI()); err != nil {
					t.Fatal(err)
				}
				setStatus(t, p, unixUser, tt.status)
			}
			exit, out := ld.start(t).wait()
			ran := exit == 0 && strings.Contains(out, "COMMAND-RAN")
			if ran != tt.wantRan || !strings.Contains(out, tt.wantText) {
				t.Errorf("exit %d, terminal %q; want ran=%v and %q", exit, out, tt.wantRan, tt.wantText)
			}
		})
	}
}

func TestLoginDuoPortalDown(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := "localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	ln.Close()
	files := testkit.NewTLSFiles(t)
	app := apps.Created{ClientID: "DIXXXXXXXXXXXXXXXXXX", ClientSecret: strings.Repeat("s", 40)}

	exit, out := newLoginDuo(t, app, host, files.CAFile, "secure").start(t).wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Errorf("portal down, failmode=secure: exit %d, terminal %q; want denied", exit, out)
	}
	// The same with failmode=safe lets the user in: the test above tells
	// the two apart.
	exit, out = newLoginDuo(t, app, host, files.CAFile, "safe").start(t).wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Errorf("portal down, failmode=safe: exit %d, terminal %q; want let in", exit, out)
	}
}

// restCall sends a v1-signed form POST as duo_unix 1.x does and decodes the
// BSON answer.
func restCall(t *testing.T, client *http.Client, base, ikey, skey, path string, params url.Values) (int, bson.Raw) {
	t.Helper()
	host := strings.TrimPrefix(base, "https://")
	body := duo.CanonParamsV1(params)
	sig := duo.Sign(duo.SigV1, skey, duo.CanonV1("POST", strings.Split(host, ":")[0], path, body))
	req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := bson.Raw(raw).Validate(); err != nil {
		t.Fatalf("%s answered %d with no BSON document: %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, bson.Raw(raw)
}

func TestRESTv1AnswersBSON(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	client := files.Client()

	status, doc := restCall(t, client, p.URL, app.ClientID, app.ClientSecret, "/rest/v1/preauth.bson",
		url.Values{"user": {"Zoe"}, "ipaddr": {"10.1.2.3"}, "hostname": {"bastion 1"}, "failmode": {"secure"}})
	resp := doc.Lookup("response").Document()
	if status != 200 || doc.Lookup("stat").StringValue() != "OK" || resp.Lookup("result").StringValue() != "enroll" ||
		!strings.HasPrefix(resp.Lookup("status").StringValue(), "Please enroll at "+p.URL+"/enroll/") {
		t.Fatalf("preauth.bson = %d %s", status, doc)
	}

	failures := []struct {
		name       string
		ikey, skey string
		path       string
		params     url.Values
		wantStatus int
		wantCode   int32
	}{
		{"bad signature", app.ClientID, strings.Repeat("k", 40), "/rest/v1/preauth.bson", url.Values{"user": {"zoe"}}, 401, 40103},
		{"unknown ikey", "DINOSUCHKEY000000000", app.ClientSecret, "/rest/v1/preauth.bson", url.Values{"user": {"zoe"}}, 401, 40102},
		{"missing user", app.ClientID, app.ClientSecret, "/rest/v1/preauth.bson", url.Values{"ipaddr": {"10.1.2.3"}}, 400, 40002},
		{"unknown factor", app.ClientID, app.ClientSecret, "/rest/v1/auth.bson", url.Values{"user": {"zoe"}, "factor": {"push"}}, 400, 40002},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			status, doc := restCall(t, client, p.URL, tt.ikey, tt.skey, tt.path, tt.params)
			code, ok := doc.Lookup("code").Int32OK()
			if status != tt.wantStatus || doc.Lookup("stat").StringValue() != "FAIL" || !ok || code != tt.wantCode ||
				doc.Lookup("message").StringValue() == "" {
				t.Errorf("got %d %s, want %d with int32 code %d", status, doc, tt.wantStatus, tt.wantCode)
			}
		})
	}
	if n := len(auditActions(t, p, "zoe")); n != 1 {
		t.Errorf("zoe has %d audit records, want only the first preauth's", n)
	}
}
