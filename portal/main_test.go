package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), e, args)
	return result{code, out.String(), errOut.String()}
}

func TestUsersAddAndEnrollLinkContract(t *testing.T) {
	files := newDBFiles(t)
	env := files.env("PORTAL_BASE_URL", "https://mfa.example.com")

	r := runCLI(t, env, "users", "add", "Alice", "--email", "alice@example.com", "--realname", "Alice Liddell")
	if r.code != 0 || !strings.Contains(r.stdout, "created user alice") {
		t.Fatalf("users add: %+v", r)
	}
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"users", "add", "ALICE"}, "already exists", 1},
		{[]string{"users", "add", "bad name!"}, "letters, digits", 1},
		{[]string{"users", "add", "bob", "--email", "not-an-email"}, "does not look right", 1},
		{[]string{"users", "add"}, "exactly one USERNAME", 2},
		{[]string{"enroll-link", "nobody"}, "there is no user", 1},
		{[]string{"enroll-link"}, "exactly one USERNAME", 2},
		{[]string{"frobnicate"}, "usage: portal COMMAND", 2},
	} {
		r := runCLI(t, env, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}

	first := runCLI(t, env, "enroll-link", "alice")
	if first.code != 0 {
		t.Fatalf("enroll-link: %+v", first)
	}
	lines := strings.Split(strings.TrimRight(first.stdout, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout must be the URL alone, got %q", first.stdout)
	}
	u, err := url.Parse(lines[0])
	if err != nil || u.Scheme != "https" || u.Host != "mfa.example.com" || !strings.HasPrefix(u.Path, "/enroll/") || len(u.Path) < len("/enroll/")+43 {
		t.Fatalf("URL %q", lines[0])
	}
	// Flags after the positional argument work too, and the older link is
	// said to stop working, on stderr.
	second := runCLI(t, map[string]string{"PORTAL_SECRET_KEY_FILE": files.key}, "enroll-link", "alice", "--db", env["PORTAL_DB"], "--base-url", "https://mfa.example.com")
	if second.code != 0 || second.stdout == first.stdout || !strings.Contains(second.stderr, "previous enrollment link") {
		t.Fatalf("second link: %+v", second)
	}
	// --reset: a link that adds the next device without proof, still the
	// URL alone on stdout, and queued to alice's address.
	reset := runCLI(t, env, "enroll-link", "alice", "--reset")
	if reset.code != 0 || strings.Count(reset.stdout, "\n") != 1 || !strings.Contains(reset.stdout, "/enroll/") ||
		!strings.Contains(reset.stderr, "without a code from an existing one") || !strings.Contains(reset.stderr, "queued to alice@example.com") {
		t.Fatalf("reset link: %+v", reset)
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "portal ") {
		t.Fatalf("%+v", r)
	}
}
