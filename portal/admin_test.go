package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/app"
	"enrollportal/internal/audit"
)

// runAdminCLI runs a command on the files with stdin, as an operator
// would at http://localhost:8080.
func runAdminCLI(t *testing.T, files dbFiles, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	vars := files.env("PORTAL_BASE_URL", "http://localhost:8080")
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestAdminAdd(t *testing.T) {
	files := newDBFiles(t)
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		stderr      string
	}{
		{"no password flag", "a long password\n", []string{"--email", "a@example.org", "--role", "owner"}, 2, "--password-stdin is required"},
		{"no email", "a long password\n", []string{"--role", "owner", "--password-stdin"}, 2, "--email is required"},
		{"bad role", "a long password\n", []string{"--email", "a@example.org", "--role", "boss", "--password-stdin"}, 2, `unknown role "boss"`},
		{"short password", "short\n", []string{"--email", "a@example.org", "--role", "owner", "--password-stdin"}, 1, "at least 12 characters"},
		{"empty stdin", "", []string{"--email", "a@example.org", "--role", "owner", "--password-stdin"}, 1, "no password on stdin"},
		{"bad email", "a long password\n", []string{"--email", "not-an-email", "--role", "owner", "--password-stdin"}, 1, "email address"},
		{"created", "a long password\n", []string{"--role", "help_desk", "--password-stdin", "--email", "Desk@Example.org"}, 0, ""},
		{"taken", "a long password\n", []string{"--email", "desk@example.org", "--role", "owner", "--password-stdin"}, 1, "already exists"},
	}
	for _, c := range cases {
		code, stdout, stderr := runAdminCLI(t, files, c.stdin, append([]string{"admin", "add"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, stderr, c.code, c.stderr)
		}
		if c.code == 0 && !strings.Contains(stdout, "created admin desk@example.org (Help Desk") {
			t.Errorf("%s: stdout %q", c.name, stdout)
		}
	}
	a, err := app.Open(context.Background(), files.settings("http://localhost:8080"), app.Options{LogOut: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.Store.AdminByEmail(context.Background(), "desk@example.org")
	if err != nil || got.Role != admin.RoleHelpDesk || !admin.CheckPassword(got.PasswordHash, "a long password") {
		t.Fatalf("stored admin: %+v %v", got, err)
	}
	if n, _ := a.Store.CountAdmins(context.Background()); n != 1 {
		t.Fatalf("%d admins, want 1: a refused command created one", n)
	}
}

func TestOwnerSetupLinkPrintedOnceNoAdminExists(t *testing.T) {
	s := newDBFiles(t).settings("http://localhost:8080")
	a, err := app.Open(context.Background(), s, app.Options{LogOut: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var stderr bytes.Buffer
	env := &cliEnv{stderr: &stderr}
	if err := announceOwnerSetup(context.Background(), env, a); err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	i := strings.Index(out, "http://localhost:8080/admin/setup/")
	if i < 0 {
		t.Fatalf("no setup URL in %q", out)
	}
	token := strings.Fields(out[i+len("http://localhost:8080/admin/setup/"):])[0]
	if _, err := a.Admins.OpenSetupLink(context.Background(), token); err != nil {
		t.Fatalf("printed link does not open: %v", err)
	}
	if _, err := a.Admins.Create(context.Background(), admin.NewAdmin{Email: "o@example.org", Role: admin.RoleOwner, Password: "a long password"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if err := announceOwnerSetup(context.Background(), env, a); err != nil || stderr.Len() != 0 {
		t.Fatalf("with an admin: %v %q", err, stderr.String())
	}
}

func TestAdminSetPassword(t *testing.T) {
	files := newDBFiles(t)
	if code, _, stderr := runAdminCLI(t, files, "a long password\n", "admin", "add", "--email", "o@example.org", "--role", "owner", "--password-stdin"); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, files, "another password\n", "admin", "set-password", "--email", "nobody@example.org", "--password-stdin"); code != 1 || !strings.Contains(stderr, "no such admin") {
		t.Fatalf("unknown email: %d %q", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, files, "short\n", "admin", "set-password", "--email", "o@example.org", "--password-stdin"); code != 1 || !strings.Contains(stderr, "at least 12 characters") {
		t.Fatalf("short: %d %q", code, stderr)
	}
	code, stdout, stderr := runAdminCLI(t, files, "another password\n", "admin", "set-password", "--email", "O@example.org", "--password-stdin")
	if code != 0 || !strings.Contains(stdout, "set a new password for o@example.org") {
		t.Fatalf("set-password: %d %q %q", code, stdout, stderr)
	}
	a, err := app.Open(context.Background(), files.settings("http://localhost:8080"), app.Options{LogOut: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.Store.AdminByEmail(context.Background(), "o@example.org")
	if err != nil || !admin.CheckPassword(got.PasswordHash, "another password") || got.SessionGen != 1 {
		t.Fatalf("stored admin: gen %d, %v", got.SessionGen, err)
	}
	entries, err := a.Store.AuditForTarget(context.Background(), audit.TargetAdmin, "o@example.org", 5)
	if err != nil || len(entries) == 0 || entries[0].Action != audit.AdminPasswordSet {
		t.Fatalf("audit: %+v %v", entries, err)
	}
}
