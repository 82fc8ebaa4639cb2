package testkit

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// LoginDuoUser is the account login_duo runs for in tests: it must exist on
// this host (login_duo looks it up), and names the portal user.
const LoginDuoUser = "daemon"

// LoginDuoPath finds Debian's login_duo. The tests never skip: without it
// they fail and say how to install it.
func LoginDuoPath(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("login_duo")
	if err != nil {
		if path, err = exec.LookPath("/usr/sbin/login_duo"); err != nil {
			t.Fatal("login_duo is not installed: apt-get install -y login-duo (Debian's duo_unix 1.11)")
		}
	}
	return path
}

// LoginDuo is Debian's login_duo configured for a portal application.
type LoginDuo struct {
	Path, Conf string
}

// NewLoginDuo writes a login_duo.conf (mode 600, as login_duo demands, or
// it fails open) for the application with ikey and skey at host. One
// prompt per run, so that a wrong passcode ends the run instead of asking
// again.
func NewLoginDuo(t testing.TB, ikey, skey, host, caFile, failmode string) LoginDuo {
	t.Helper()
	return NewLoginDuoPrompts(t, ikey, skey, host, caFile, failmode, 1)
}

// NewLoginDuoPrompts is NewLoginDuo with prompts rounds per run, as a
// login whose first round texts a passcode (and is counted as failed by
// login_duo) needs a second one to type it.
func NewLoginDuoPrompts(t testing.TB, ikey, skey, host, caFile, failmode string, prompts int) LoginDuo {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "login_duo.conf")
	text := "[duo]\nikey = " + ikey + "\nskey = " + skey + "\nhost = " + host +
		"\ncafile = " + caFile + "\nfailmode = " + failmode + "\nhttps_timeout = 5\nprompts = " + strconv.Itoa(prompts) + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoginDuo{Path: LoginDuoPath(t), Conf: conf}
}

// LoginDuoSession is one login_duo run under a pseudo-terminal.
type LoginDuoSession struct {
	t    testing.TB
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

// Start runs login_duo for LoginDuoUser, asking it to run echo COMMAND-RAN
// once the login succeeds.
func (l LoginDuo) Start(t testing.TB) *LoginDuoSession {
	t.Helper()
	cmd := exec.Command(l.Path, "-c", l.Conf, "-f", LoginDuoUser, "/bin/echo", "COMMAND-RAN")
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	s := &LoginDuoSession{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
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

// Output is what the terminal has shown so far.
func (s *LoginDuoSession) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// WaitFor waits until the terminal shows text.
func (s *LoginDuoSession) WaitFor(text string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Output(), text) {
		if time.Now().After(deadline) {
			s.t.Fatalf("terminal never showed %q; it shows %q", text, s.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TypeLine types a line as the user would.
func (s *LoginDuoSession) TypeLine(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.tty, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

// Wait waits for login_duo to exit and returns its exit code and what the
// terminal showed.
func (s *LoginDuoSession) Wait() (int, string) {
	s.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("login_duo did not exit; terminal shows %q", s.Output())
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), s.Output()
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return 0, s.Output()
}
