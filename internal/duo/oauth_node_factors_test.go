package duo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestDuoNodeClientSignsInWithABypassCodeATokenCodeAndAnSMSPasscode runs
// Duo's own Node.js client through a sign-in with each passcode factor
// that is not an authenticator app, the passcodes typed on the prompt's
// pages as a person would, and reads the factor back from the id_token
// the client checked.
func TestDuoNodeClientSignsInWithABypassCodeATokenCodeAndAnSMSPasscode(t *testing.T) {
	gw := testkit.NewSMSGateway(t)
	p, files := testkit.ServeTLS(t, testkit.WithDelivery(nil, gw))
	// The client signs with the wall clock; run the portal's on it too.
	p.Clock.Set(time.Now())
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{callback}}, audit.CLI())
	testkit.NoErr(t, err)
	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	global.AuthMethods = []string{store.MethodAuthenticatorApp, store.MethodSMS, store.MethodHardwareToken}
	testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))

	// bea has a phone that takes texts and a bypass code from the help
	// desk; tom has only a HOTP token.
	enrollPhone(t, p, "bea")
	bypass := issueBypass(t, p, "bea", factors.BypassOptions{Count: 1, Uses: 1, TTL: time.Hour})[0]
	_, err = p.Users.Create(ctx, users.NewUser{Username: "tom"}, audit.CLI())
	testkit.NoErr(t, err)
	lines, err := p.Factors.ParseTokens(ctx, strings.NewReader("K7,3132333435363738393031323334353637383930,hotp-6,0\n"))
	testkit.NoErr(t, err)
	_, err = p.Factors.ImportTokens(ctx, lines, p.Enroll, audit.CLI())
	testkit.NoErr(t, err)
	testkit.NoErr(t, p.Factors.AssignToken(ctx, "K7", "tom", audit.CLI()))

	apiHost := strings.TrimPrefix(p.URL, "https://")
	node := testkit.NewDuoNodeClient(t, created.ClientID, created.ClientSecret, apiHost, callback, files.CAFile)

	// signIn goes from the client's authorize URL to the passcode page,
	// runs before (which may ask for a text), types the code it returns and
	// follows the redirects back to the application: the duo_code.
	signIn := func(username string, before func(page string), code func() string) string {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		browser := files.Client()
		browser.Jar = jar
		browser.CheckRedirect = func(r *http.Request, via []*http.Request) error {
			if r.URL.Host != apiHost {
				return http.ErrUseLastResponse
			}
			return nil
		}
		var auth struct {
			URL string `json:"url"`
		}
		if failed, msg := node.Call(&auth, "authurl", username, strings.Repeat("s", 36)); failed {
			t.Fatal(msg)
		}
		resp, err := browser.Get(auth.URL)
		testkit.NoErr(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := resp.Request.URL.String()
		m := csrfField.FindStringSubmatch(string(body))
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(page, "/passcode") || m == nil {
			t.Fatalf("%s: %d at %s, want the passcode page", username, resp.StatusCode, page)
		}
		csrf := m[1]
		if before != nil {
			r, err := browser.PostForm(strings.TrimSuffix(page, "/passcode")+"/sms", url.Values{"csrf_token": {csrf}})
			testkit.NoErr(t, err)
			r.Body.Close()
			if r.StatusCode != http.StatusOK {
				t.Fatalf("text me a code: %d", r.StatusCode)
			}
			before(page)
		}
		resp, err = browser.PostForm(page, url.Values{"csrf_token": {csrf}, "code": {code()}})
		testkit.NoErr(t, err)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
			t.Fatalf("%s: %d %v, want the redirect to the application", username, resp.StatusCode, loc)
		}
		return loc.Query().Get("duo_code")
	}
	var token struct {
		AuthResult struct {
			Result string `json:"result"`
		} `json:"auth_result"`
		AuthContext struct {
			Factor string `json:"factor"`
		} `json:"auth_context"`
	}
	for _, tc := range []struct {
		user, factor string
		before       func(string)
		code         func() string
	}{
		{"bea", "bypass_code", nil, func() string { return bypass }},
		// RFC 4226's code at counter 1 (a press).
		{"tom", "hardware_token", nil, func() string { return "287082" }},
		{"bea", "sms_passcode", func(string) {}, func() string { return textedCode(t, p, gw, enrolledNumber) }},
	} {
		code := signIn(tc.user, tc.before, tc.code)
		if failed, msg := node.Call(&token, "exchange", code, tc.user); failed {
			t.Fatalf("%s: exchange: %s", tc.factor, msg)
		}
		if token.AuthResult.Result != "allow" || token.AuthContext.Factor != tc.factor {
			t.Fatalf("%s: token %+v", tc.factor, token)
		}
	}
}
