package duo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// newApp creates an application of kind and returns its credentials.
func newApp(t *testing.T, p *testkit.Portal, kind, newUserPolicy string) apps.Created {
	t.Helper()
	c, err := p.Apps.Create(context.Background(), apps.NewApp{Name: "Test " + kind, Kind: kind, NewUserPolicy: newUserPolicy}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollPhone enrolls username (creating the user when needed, as an
// inline enrollment does) with an authenticator app and returns the app's
// TOTP secret. The clock then moves past the step of the confirming code,
// as time does for a person.
func enrollPhone(t *testing.T, p *testkit.Portal, username string) string {
	t.Helper()
	secret := p.EnrollAuthenticator(t, username, p.Clock.Now())
	p.Clock.Advance(time.Minute)
	return secret
}

// wrongCode is a six-digit code that is not the right one now.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	right := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		right[testkit.TOTPCode(t, secret, at.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !right[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// rawCall sends a v2-signed request built by hand, for the malformed cases
// duo_api_golang cannot send. contentType "" sends a form.
func rawCall(t *testing.T, client *http.Client, base, ikey, skey, method, path, contentType, body string, date time.Time) (int, http.Header, map[string]any) {
	t.Helper()
	host := strings.TrimPrefix(base, "https://")
	params, _ := url.ParseQuery(body)
	if method == http.MethodGet {
		params, _ = url.ParseQuery(strings.TrimPrefix(path[strings.Index(path+"?", "?"):], "?"))
	}
	d := date.UTC().Format(time.RFC1123Z)
	sig := duo.Sign(duo.SigV2, skey, duo.CanonV2(d, method, host, strings.SplitN(path, "?", 2)[0], duo.CanonParams(params)))
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Date", d)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	return resp.StatusCode, resp.Header, out
}

// auditActions lists the actions recorded about a user, newest first.
func auditActions(t *testing.T, p *testkit.Portal, username string) []string {
	t.Helper()
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetUser, username, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// auditOf lists the entries of action recorded about a user, newest first.
func auditOf(t *testing.T, p *testkit.Portal, username, action string) []store.AuditEntry {
	t.Helper()
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetUser, username, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
