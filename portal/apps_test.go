package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/app"
)

// runPortal runs a subcommand in-process with its own streams and settings.
func runPortal(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func parseKeyValues(t *testing.T, out string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("output line %q is not key=value", line)
		}
		kv[k] = v
	}
	return kv
}

func TestAppsAddPrintsCredentials(t *testing.T) {
	files := newDBFiles(t)
	env := files.env("PORTAL_BASE_URL", "https://mfa.example.org:8443")

	code, out, errOut := runPortal(t, env, "apps", "add", "--name", "Wiki", "--kind", "web",
		"--redirect-uri", "https://wiki.example.org/cb", "--redirect-uri", "http://localhost:3000/cb", "--new-user-policy", "allow")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	web := parseKeyValues(t, out)
	if len(web) != 3 || !regexp.MustCompile(`^DI[A-Z0-9]{18}$`).MatchString(web["client_id"]) ||
		len(web["client_secret"]) != 40 || web["api_host"] != "mfa.example.org:8443" {
		t.Errorf("web credentials = %q", out)
	}

	code, out, errOut = runPortal(t, env, "apps", "add", "--kind", "unix", "--name", "SSH bastion")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	unix := parseKeyValues(t, out)
	if len(unix) != 3 || len(unix["ikey"]) != 20 || len(unix["skey"]) != 40 || unix["api_host"] != "mfa.example.org:8443" {
		t.Errorf("unix credentials = %q", out)
	}

	code, out, errOut = runPortal(t, env, "apps", "add", "--kind", "admin-api", "--name", "HR feed", "--grant", "read-resource,write-resource")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	adminAPI := parseKeyValues(t, out)
	if strings.Contains(errOut, "no Admin API grants") {
		t.Errorf("an application with grants was told it has none: %q", errOut)
	}
	if _, _, errOut = runPortal(t, env, "apps", "add", "--kind", "admin-api", "--name", "No grants"); !strings.Contains(errOut, "no Admin API grants") {
		t.Errorf("an admin-api application without grants was not told so: %q", errOut)
	}

	// What was printed is what the portal holds.
	s := files.settings(env["PORTAL_BASE_URL"])
	s.LogLevel = "info"
	a, err := app.Open(context.Background(), s, app.Options{LogOut: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for id, secret := range map[string]string{web["client_id"]: web["client_secret"], unix["ikey"]: unix["skey"]} {
		stored, err := a.Apps.ByClientID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := a.Apps.Secret(stored); err != nil || got != secret {
			t.Errorf("secret of %s does not match the printed one", id)
		}
	}
	webApp, _ := a.Apps.ByClientID(context.Background(), web["client_id"])
	if len(webApp.RedirectURIs) != 2 || webApp.PolicyID == nil {
		t.Errorf("web application = %+v, want 2 redirect URIs and a policy", webApp)
	}
	hr, err := a.Apps.ByClientID(context.Background(), adminAPI["ikey"])
	if err != nil || strings.Join(hr.AdminGrants, ",") != "read-resource,write-resource" {
		t.Errorf("admin-api application = %+v, %v; want its two grants", hr, err)
	}
}

func TestAppsAddRejectsBadInput(t *testing.T) {
	env := newDBFiles(t).env()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no kind", []string{"--name", "X"}, 2, "--kind"},
		{"unknown kind", []string{"--name", "X", "--kind", "saml"}, 1, "web, unix, auth-api or admin-api"},
		{"plain http redirect", []string{"--name", "X", "--kind", "web", "--redirect-uri", "http://wiki.example.org/cb"}, 1, "must be an absolute https:// URL"},
		{"bad new user policy", []string{"--name", "X", "--kind", "unix", "--new-user-policy", "sometimes"}, 1, "require-enrollment, allow or deny"},
		{"grant on a unix application", []string{"--name", "X", "--kind", "unix", "--grant", "read-log"}, 1, "only admin-api applications have grants"},
		{"unknown grant", []string{"--name", "X", "--kind", "admin-api", "--grant", "read-resource,everything"}, 1, "read-resource, write-resource, read-log and settings"},
		{"positional argument", []string{"Wiki", "--kind", "web", "--name", "X"}, 2, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runPortal(t, env, append([]string{"apps", "add"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d mentioning %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestAppsListAndDelete(t *testing.T) {
	env := newDBFiles(t).env("PORTAL_BASE_URL", "https://mfa.example.org")
	if code, out, _ := runPortal(t, env, "apps", "list"); code != 0 || out != "" {
		t.Fatalf("list with no applications: exit %d, %q", code, out)
	}
	for _, args := range [][]string{
		{"--name", "VPN", "--kind", "auth-api", "--new-user-policy", "deny"},
		{"--name", "Bastion", "--kind", "unix"},
	} {
		if code, _, errOut := runPortal(t, env, append([]string{"apps", "add"}, args...)...); code != 0 {
			t.Fatalf("apps add: %s", errOut)
		}
	}
	code, out, errOut := runPortal(t, env, "apps", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("list = %q, want two lines", out)
	}
	bastion, vpn := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	if len(bastion) != 4 || !regexp.MustCompile(`^DA[A-Z0-9]+$`).MatchString(bastion[0]) || bastion[1] != "Bastion" || bastion[2] != "unix" || bastion[3] != "global" {
		t.Errorf("first line = %q", lines[0])
	}
	if len(vpn) != 4 || vpn[1] != "VPN" || vpn[2] != "auth-api" || vpn[3] != "VPN ("+vpn[0]+")" {
		t.Errorf("second line = %q", lines[1])
	}

	if code, _, errOut := runPortal(t, env, "apps", "delete", "DANOSUCHAPP"); code != 1 || !strings.Contains(errOut, `no application has the id "DANOSUCHAPP"`) {
		t.Errorf("delete of an unknown id: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runPortal(t, env, "apps", "delete"); code != 2 || !strings.Contains(errOut, "exactly one application id") {
		t.Errorf("delete without an id: exit %d, %q", code, errOut)
	}
	code, out, errOut = runPortal(t, env, "apps", "delete", vpn[0])
	if code != 0 || out != "deleted application VPN ("+vpn[0]+")\n" {
		t.Fatalf("delete: exit %d, %q, %q", code, out, errOut)
	}
	if _, out, _ := runPortal(t, env, "apps", "list"); out != lines[0]+"\n" {
		t.Errorf("list after the delete = %q", out)
	}
}
