package duo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

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
	node := testkit.NewDuoNodeClient(t, created.ClientID, created.ClientSecret, apiHost, callback, files.CAFile)

	var health struct {
		Stat string `json:"stat"`
	}
	if failed, msg := node.Call(&health, "health"); failed || health.Stat != "OK" {
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
		if failed, msg := node.Call(&auth, "authurl", username, strings.Repeat("q", 36)); failed {
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
	if failed, msg := node.Call(&token, "exchange", code, "Pat"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "allow" || token.PreferredUsername != "Pat" || token.AuthContext.User.Name != "pat" {
		t.Fatalf("token %+v", token)
	}
	if failed, msg := node.Call(&token, "exchange", code, "Pat"); !failed || !strings.Contains(msg, "invalid_grant") {
		t.Fatalf("second exchange of the same code: failed=%v %q, want invalid_grant", failed, msg)
	}

	code = login("mal")
	if failed, msg := node.Call(&token, "exchange", code, "mal"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "deny" {
		t.Fatalf("disabled user: %+v", token)
	}
}
