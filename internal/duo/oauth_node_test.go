package duo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// nodeClient runs Duo's Node.js Universal Prompt client (see
// testdata/duo_universal_client.js) against a portal.
type nodeClient struct {
	t       *testing.T
	env     []string
	modules string
}

func newNodeClient(t *testing.T, clientID, clientSecret, apiHost, redirect, caFile string) *nodeClient {
	t.Helper()
	dir := os.Getenv("PORTAL_TEST_TOOLS")
	if dir == "" {
		dir = filepath.Join(testkit.RepoRoot(t), ".test-tools")
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@duosecurity", "duo_universal", "package.json")); err != nil {
		t.Fatalf("Duo's Node.js client is missing (%v): run `make test-tools`", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is missing: run `make test-tools`")
	}
	return &nodeClient{t: t, modules: modules, env: append(os.Environ(),
		"NODE_PATH="+modules, "DUO_CLIENT_ID="+clientID, "DUO_CLIENT_SECRET="+clientSecret,
		"DUO_API_HOST="+apiHost, "DUO_REDIRECT_URL="+redirect, "DUO_CA="+caFile)}
}

// call runs one command and decodes its JSON answer; failed reports
// whether the client threw.
func (n *nodeClient) call(out any, args ...string) (failed bool, message string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"testdata/duo_universal_client.js"}, args...)...)
	cmd.Env = n.env
	stdout, err := cmd.Output()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(stdout, &e)
	if err != nil {
		if e.Error == "" {
			n.t.Fatalf("node %v: %v (%s)", args, err, stdout)
		}
		return true, e.Error
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		n.t.Fatalf("node %v printed %q: %v", args, stdout, err)
	}
	return false, ""
}

// TestDuoNodeClientSignsInThroughThePortal runs Duo's own Node.js client
// against the portal over HTTPS: health check, the authorize URL it makes,
// the code exchange and its checks of the id_token.
func TestDuoNodeClientSignsInThroughThePortal(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	// The client signs with the wall clock; run the portal's on it too.
	p.Clock.Set(time.Now())
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{callback}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	now := p.Clock.Now()
	for _, u := range []store.User{
		{Key: "DUPAT000000000000000", Username: "pat", Status: store.StatusBypass, CreatedAt: now, UpdatedAt: now},
		{Key: "DUMAL000000000000000", Username: "mal", Status: store.StatusDisabled, CreatedAt: now, UpdatedAt: now},
	} {
		if err := p.Store.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	apiHost := strings.TrimPrefix(p.URL, "https://")
	node := newNodeClient(t, created.ClientID, created.ClientSecret, apiHost, callback, files.CAFile)

	var health struct {
		Stat string `json:"stat"`
	}
	if failed, msg := node.call(&health, "health"); failed || health.Stat != "OK" {
		t.Fatalf("health check: %s %+v", msg, health)
	}

	jar, _ := cookiejar.New(nil)
	browser := files.Client()
	browser.Jar = jar
	browser.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Host != apiHost {
			return http.ErrUseLastResponse
		}
		return nil
	}
	login := func(username string) string {
		t.Helper()
		var auth struct {
			URL string `json:"url"`
		}
		if failed, msg := node.call(&auth, "authurl", username, strings.Repeat("q", 36)); failed {
			t.Fatal(msg)
		}
		resp, err := browser.Get(auth.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			// The denial page; its link goes back with the deny result.
			m := returnLink.FindStringSubmatch(string(body))
			if m == nil {
				t.Fatalf("denial page without a way back: %s", body)
			}
			if resp, err = browser.Get(p.URL + m[1]); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		loc, err := resp.Location()
		if err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
			t.Fatalf("%s: %d %v, want the redirect to the application", username, resp.StatusCode, loc)
		}
		return loc.Query().Get("duo_code")
	}

	var token struct {
		PreferredUsername string `json:"preferred_username"`
		AuthResult        struct {
			Result string `json:"result"`
		} `json:"auth_result"`
		AuthContext struct {
			Reason string `json:"reason"`
			User   struct {
				Name string `json:"name"`
			} `json:"user"`
		} `json:"auth_context"`
	}
	code := login("Pat")
	if failed, msg := node.call(&token, "exchange", code, "Pat"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "allow" || token.PreferredUsername != "Pat" || token.AuthContext.User.Name != "pat" {
		t.Fatalf("token %+v", token)
	}
	if failed, msg := node.call(&token, "exchange", code, "Pat"); !failed || !strings.Contains(msg, "invalid_grant") {
		t.Fatalf("second exchange of the same code: failed=%v %q, want invalid_grant", failed, msg)
	}

	code = login("mal")
	if failed, msg := node.call(&token, "exchange", code, "mal"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "deny" {
		t.Fatalf("disabled user: %+v", token)
	}
}
