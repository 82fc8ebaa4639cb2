package duo_test

import (
	"os"
	"strings"
	"testing"

	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestLoginDuoAutopushStillTakesAPasscode: with autopush = yes (common in
// existing configurations), login_duo 1.11 first sends the preauth's
// factors.default without asking (and gives up at once when there is
// none); when that attempt is denied it falls back to the menu for its
// remaining prompts. So the default must be a factor whose automatic
// attempt is denied with a word on what to do: an enrolled user then gets
// the menu and logs in with a passcode, and the automatic attempt does not
// count against them.
func TestLoginDuoAutopushStillTakesAPasscode(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	ld := newLoginDuo(t, app, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure")
	conf, err := os.ReadFile(ld.Conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = []byte(strings.Replace(string(conf), "prompts = 1\n", "prompts = 3\nautopush = yes\n", 1))
	if err := os.WriteFile(ld.Conf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := enrollPhone(t, p, unixUser)

	s := ld.Start(t)
	s.WaitFor("Enter the passcode from your authenticator app")
	s.TypeLine(testkit.TOTPCode(t, secret, p.Clock.Now()))
	exit, out := s.Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "This server sends no pushes") {
		t.Fatalf("autopush login with a passcode: exit %d, terminal %q", exit, out)
	}
	u, err := p.Store.UserByUsername(t.Context(), unixUser)
	if err != nil || u.FailedAttempts != 0 {
		t.Fatalf("after the automatic attempt the user has %d failed attempts (%v)", u.FailedAttempts, err)
	}
}
