package duo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

const callback = "https://app.example.com/duo-callback"

// fixture is a test portal with one web application and a client for it.
type fixture struct {
	p      *testkit.Portal
	client *demoapp.Client
	app    store.Application
}

// handlerTransport sends a client's requests straight to the portal's
// router, so the real client code runs against the real handlers.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := testkit.New(t)
	created, err := p.Apps.Create(context.Background(), apps.NewApp{
		Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{callback},
	}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	c := &demoapp.Client{
		ClientID: created.ClientID, ClientSecret: created.ClientSecret, APIHost: "localhost", Scheme: "http",
		RedirectURI: callback, UseDuoCode: true, HTTP: &http.Client{Transport: handlerTransport{p.Handler}},
		Now: p.Clock.Now,
	}
	return &fixture{p: p, client: c, app: created.App}
}

func (f *fixture) sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) assertionClaims(path string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.client.ClientID, "sub": f.client.ClientID, "aud": "https://localhost" + path,
		"exp": f.p.Clock.Now().Add(5 * time.Minute).Unix(), "jti": demoapp.RandomString(36),
	}
}

func (f *fixture) assertion(t *testing.T, path string, change func(jwt.MapClaims)) string {
	c := f.assertionClaims(path)
	if change != nil {
		change(c)
	}
	return f.sign(t, jwt.SigningMethodHS512, []byte(f.client.ClientSecret), c)
}

func (f *fixture) do(t *testing.T, method, target, contentType string, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	f.p.Handler.ServeHTTP(w, r)
	return w
}

const form = "application/x-www-form-urlencoded"

func TestHealthCheckAcceptsTheClientAndRefusesBadAssertions(t *testing.T) {
	f := newFixture(t)
	if err := f.client.HealthCheck(context.Background()); err != nil {
		t.Fatalf("health check with good credentials: %v", err)
	}
	replayed := f.assertion(t, "/oauth/v1/health_check", nil)
	if w := f.do(t, "POST", "/oauth/v1/health_check", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {replayed}}.Encode()); w.Code != 200 {
		t.Fatalf("first use of an assertion: %d %s", w.Code, w.Body)
	}
	rsa := jwt.NewWithClaims(jwt.SigningMethodNone, f.assertionClaims("/oauth/v1/health_check"))
	noneToken, _ := rsa.SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := []struct {
		name        string
		contentType string
		body        string
	}{
		{"replayed assertion", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {replayed}}.Encode()},
		{"wrong secret", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {
			f.sign(t, jwt.SigningMethodHS512, []byte(strings.Repeat("x", 40)), f.assertionClaims("/oauth/v1/health_check"))}}.Encode()},
		{"HS256 instead of HS512", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {
			f.sign(t, jwt.SigningMethodHS256, []byte(f.client.ClientSecret), f.assertionClaims("/oauth/v1/health_check"))}}.Encode()},
		{"alg none", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {noneToken}}.Encode()},
		{"expired", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {f.assertion(t, "/oauth/v1/health_check", func(c jwt.MapClaims) {
			c["exp"] = f.p.Clock.Now().Add(-2 * time.Minute).Unix()
		})}}.Encode()},
		{"token endpoint's audience", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {f.assertion(t, "/oauth/v1/token", nil)}}.Encode()},
		{"no jti", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {f.assertion(t, "/oauth/v1/health_check", func(c jwt.MapClaims) { delete(c, "jti") })}}.Encode()},
		{"iss not the client", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {f.assertion(t, "/oauth/v1/health_check", func(c jwt.MapClaims) { c["iss"] = "someone" })}}.Encode()},
		{"unknown client_id", form, url.Values{"client_id": {"DIXXXXXXXXXXXXXXXXXX"}, "client_assertion": {f.assertion(t, "/oauth/v1/health_check", nil)}}.Encode()},
		{"malformed JWT", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {"not.a.jwt"}}.Encode()},
		{"JSON body", "application/json", `{"client_id":"` + f.client.ClientID + `"}`},
		{"client_id twice", form, "client_id=" + f.client.ClientID + "&client_id=" + f.client.ClientID},
		{"oversized body", form, "client_id=" + strings.Repeat("a", 64<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(t, "POST", "/oauth/v1/health_check", tc.contentType, tc.body)
			var got struct {
				Stat    string `json:"stat"`
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer is not JSON: %d %s", w.Code, w.Body)
			}
			if w.Code == 200 || got.Stat != "FAIL" || got.Code != 40002 {
				t.Fatalf("got %d %s, want a FAIL with code 40002", w.Code, w.Body)
			}
		})
	}
}

// browser follows the portal's pages like a person would, with a cookie
// jar, stopping at the first redirect that leaves the portal.
type browser struct {
	t      *testing.T
	f      *fixture
	client *http.Client
}

func newBrowser(t *testing.T, f *fixture) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, f: f, client: &http.Client{
		Jar: jar, Transport: handlerTransport{f.p.Handler},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != "localhost" {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

var returnLink = regexp.MustCompile(`href="(/prompt/[^"]+/return)"`)

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// login runs authorize -> prompt for a user whose policy decides at once
// (allow or deny) and returns the parameters the application got back.
func (b *browser) login(username, nonce string) url.Values {
	b.t.Helper()
	authURL, err := b.f.client.AuthURL(username, demoapp.RandomString(36), nonce)
	if err != nil {
		b.t.Fatal(err)
	}
	resp, body := b.get(authURL)
	if resp.StatusCode == http.StatusForbidden {
		// A denial is shown first; its link goes back with the result.
		m := returnLink.FindStringSubmatch(body)
		if m == nil {
			b.t.Fatalf("denial page without a way back: %s", body)
		}
		resp, _ = b.get("http://localhost" + m[1])
	}
	loc, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("return: %d, want a redirect to the application", resp.StatusCode)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
		b.t.Fatalf("redirected to %s, want %s", got, callback)
	}
	return loc.Query()
}

func setNewUserPolicy(t *testing.T, p *testkit.Portal, v string) {
	t.Helper()
	g, err := p.Store.GlobalPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g.NewUserPolicy = v
	if err := p.Store.UpdatePolicy(context.Background(), g); err != nil {
		t.Fatal(err)
	}
}

func TestAllowedLoginExchangesItsCodeOnceForASignedResult(t *testing.T) {
	f := newFixture(t)
	setNewUserPolicy(t, f.p, store.NewUserAllow)
	got := newBrowser(t, f).login("Carol@Example.com", "n-123")
	code := got.Get("duo_code")
	if code == "" || got.Get("code") != "" || len(got.Get("state")) != 36 {
		t.Fatalf("callback parameters %v: want duo_code and state", got)
	}
	res, err := f.client.Exchange(context.Background(), code, "Carol@Example.com", "n-123")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Allowed() || res.AuthContext.Reason == "" || res.AuthContext.Application.Name != "Payroll" {
		t.Fatalf("result %+v", res)
	}
	if res.Claims["iss"] != "https://localhost/oauth/v1/token" || res.Claims["aud"] != f.client.ClientID {
		t.Fatalf("iss %v aud %v", res.Claims["iss"], res.Claims["aud"])
	}
	if _, err := f.client.Exchange(context.Background(), code, "Carol@Example.com", "n-123"); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second exchange of the same code: %v, want invalid_grant", err)
	}
}

func TestDeniedLoginReturnsADenyResult(t *testing.T) {
	f := newFixture(t)
	setNewUserPolicy(t, f.p, store.NewUserDeny)
	f.client.UseDuoCode = false
	got := newBrowser(t, f).login("mallory", "")
	if got.Get("code") == "" || got.Get("duo_code") != "" {
		t.Fatalf("callback parameters %v: want code= when use_duo_code_attribute is false", got)
	}
	res, err := f.client.Exchange(context.Background(), got.Get("code"), "mallory", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed() || res.AuthResult.Result != "deny" || res.AuthContext.Result != "denied" {
		t.Fatalf("result %+v, want deny", res)
	}
}

func TestAuthorizeNeverRedirectsABadRequest(t *testing.T) {
	f := newFixture(t)
	now := f.p.Clock.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"scope": "openid", "redirect_uri": callback, "client_id": f.client.ClientID, "iss": f.client.ClientID,
			"aud": "https://localhost", "exp": now.Add(5 * time.Minute).Unix(), "state": demoapp.RandomString(36),
			"response_type": "code", "duo_uname": "alice", "use_duo_code_attribute": true,
		}
	}
	request := func(change func(jwt.MapClaims)) string {
		c := base()
		change(c)
		return f.sign(t, jwt.SigningMethodHS512, []byte(f.client.ClientSecret), c)
	}
	q := func(req string) string {
		return "/oauth/v1/authorize?" + url.Values{"response_type": {"code"}, "client_id": {f.client.ClientID}, "request": {req}}.Encode()
	}
	cases := []struct{ name, target string }{
		{"unregistered redirect_uri", q(request(func(c jwt.MapClaims) { c["redirect_uri"] = "https://evil.example/cb" }))},
		{"redirect_uri differing by a slash", q(request(func(c jwt.MapClaims) { c["redirect_uri"] = callback + "/" }))},
		{"wrong secret", q(f.sign(t, jwt.SigningMethodHS512, []byte(strings.Repeat("y", 40)), base()))},
		{"HS256", q(f.sign(t, jwt.SigningMethodHS256, []byte(f.client.ClientSecret), base()))},
		{"expired request", q(request(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))},
		{"expiring too far ahead", q(request(func(c jwt.MapClaims) { c["exp"] = now.Add(2 * time.Hour).Unix() }))},
		{"wrong audience", q(request(func(c jwt.MapClaims) { c["aud"] = "https://other.example" }))},
		{"short state", q(request(func(c jwt.MapClaims) { c["state"] = "short" }))},
		{"no username", q(request(func(c jwt.MapClaims) { delete(c, "duo_uname") }))},
		{"client_id claim mismatch", q(request(func(c jwt.MapClaims) { c["client_id"] = "DIXXXXXXXXXXXXXXXXXX" }))},
		{"scope without openid", q(request(func(c jwt.MapClaims) { c["scope"] = "profile" }))},
		{"malformed request", q("a.b.c")},
		{"oversized request", q(strings.Repeat("a", 9000))},
		{"unknown client", "/oauth/v1/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"DIXXXXXXXXXXXXXXXXXX"}, "request": {request(func(jwt.MapClaims) {})}}.Encode()},
		{"response_type token", "/oauth/v1/authorize?" + url.Values{"response_type": {"token"}, "client_id": {f.client.ClientID}, "request": {request(func(jwt.MapClaims) {})}}.Encode()},
		{"parameter twice", q(request(func(jwt.MapClaims) {})) + "&client_id=" + f.client.ClientID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(t, "GET", tc.target, "", "")
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
				t.Fatalf("got %d Location %q, want 400 and no redirect", w.Code, w.Header().Get("Location"))
			}
			if !strings.Contains(w.Body.String(), "Go back to the application") {
				t.Fatalf("error page does not say what to do: %s", w.Body)
			}
		})
	}
	// The good request, for contrast, goes on to the prompt.
	w := f.do(t, "GET", q(request(func(jwt.MapClaims) {})), "", "")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/prompt/") {
		t.Fatalf("good request: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestTokenRefusesBadExchanges(t *testing.T) {
	f := newFixture(t)
	setNewUserPolicy(t, f.p, store.NewUserAllow)
	b := newBrowser(t, f)
	other, err := f.p.Apps.Create(context.Background(), apps.NewApp{Name: "Other", Kind: store.AppWeb, RedirectURIs: []string{callback}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	params := func(code string, change func(url.Values)) url.Values {
		v := url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
			"client_id": {f.client.ClientID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {f.assertion(t, "/oauth/v1/token", nil)},
		}
		if change != nil {
			change(v)
		}
		return v
	}
	cases := []struct {
		name      string
		send      func(code string) *httptest.ResponseRecorder
		status    int
		wantError string
	}{
		{"wrong redirect_uri", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) { v.Set("redirect_uri", "https://app.example.com/other") }).Encode())
		}, 400, "invalid_grant"},
		{"expired code", func(code string) *httptest.ResponseRecorder {
			f.p.Clock.Advance(61 * time.Second)
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, nil).Encode())
		}, 400, "invalid_grant"},
		{"another client's code", func(code string) *httptest.ResponseRecorder {
			oc := &demoapp.Client{ClientID: other.ClientID, ClientSecret: other.ClientSecret, APIHost: "localhost", Now: f.p.Clock.Now}
			a, _ := oc.Assertion("/oauth/v1/token")
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) {
				v.Set("client_id", other.ClientID)
				v.Set("client_assertion", a)
			}).Encode())
		}, 400, "invalid_grant"},
		{"made-up code", func(string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params("made-up", nil).Encode())
		}, 400, "invalid_grant"},
		{"health_check assertion at token", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) {
				v.Set("client_assertion", f.assertion(t, "/oauth/v1/health_check", nil))
			}).Encode())
		}, 401, "invalid_client"},
		{"assertion with a future iat", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) {
				v.Set("client_assertion", f.assertion(t, "/oauth/v1/token", func(c jwt.MapClaims) { c["iat"] = f.p.Clock.Now().Add(5 * time.Minute).Unix() }))
			}).Encode())
		}, 401, "invalid_client"},
		{"wrong grant_type", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) { v.Set("grant_type", "password") }).Encode())
		}, 400, "unsupported_grant_type"},
		{"wrong client_assertion_type", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) { v.Set("client_assertion_type", "x") }).Encode())
		}, 400, "invalid_request"},
		{"JSON body", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", "application/json", `{"code":"`+code+`"}`)
		}, 400, "invalid_request"},
		{"parameter in query and body", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token?code="+url.QueryEscape(code), form, params(code, nil).Encode())
		}, 400, "invalid_request"},
		{"oversized body", func(code string) *httptest.ResponseRecorder {
			return f.do(t, "POST", "/oauth/v1/token", form, params(code, func(v url.Values) { v.Set("pad", strings.Repeat("p", 20<<10)) }).Encode())
		}, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := b.login("dave", "").Get("duo_code")
			w := tc.send(code)
			var got struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != tc.status || got.Error != tc.wantError || got.Description == "" {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.wantError)
			}
		})
	}
}

func TestTokenAcceptsQueryParametersWithAnEmptyBody(t *testing.T) {
	// Duo's Python client sends the token request this way.
	f := newFixture(t)
	setNewUserPolicy(t, f.p, store.NewUserAllow)
	code := newBrowser(t, f).login("erin", "").Get("duo_code")
	v := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"client_id": {f.client.ClientID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {f.assertion(t, "/oauth/v1/token", nil)},
	}
	w := f.do(t, "POST", "/oauth/v1/token?"+v.Encode(), "", "")
	if w.Code != 200 {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	var tr struct {
		IDToken   string `json:"id_token"`
		ExpiresIn int    `json:"expires_in"`
		TokenType string `json:"token_type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || tr.IDToken == "" || tr.ExpiresIn == 0 || tr.TokenType == "" {
		t.Fatalf("answer %s", w.Body)
	}
}

func TestAssertionClockSkew(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		exp  time.Duration
		ok   bool
	}{
		{"client clock 30 s behind, exp just passed", -30 * time.Second, true},
		{"exp 90 s ago", -90 * time.Second, false},
		{"client clock 4 minutes ahead", 9 * time.Minute, true},
		{"exp an hour ahead", time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := f.assertion(t, "/oauth/v1/health_check", func(c jwt.MapClaims) { c["exp"] = f.p.Clock.Now().Add(tc.exp).Unix() })
			w := f.do(t, "POST", "/oauth/v1/health_check", form, url.Values{"client_id": {f.client.ClientID}, "client_assertion": {a}}.Encode())
			if (w.Code == 200) != tc.ok {
				t.Fatalf("got %d %s, want ok=%v", w.Code, w.Body, tc.ok)
			}
		})
	}
}
