package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// enrollTOTP gives username an authenticator app on instances that run on
// the wall clock: the set-up is confirmed with the previous step's code,
// so that the first login's code (this step's) is not a replay of it.
func enrollTOTP(t *testing.T, p *testkit.Portal, username string) string {
	t.Helper()
	return p.EnrollAuthenticator(t, username, time.Now().Add(-30*time.Second))
}

// authAPIClient is duo_api_golang's Auth API client for a new auth-api
// application, talking to the cluster through its proxy.
func (c *cluster) authAPIClient(t *testing.T) *authapi.AuthApi {
	t.Helper()
	app, err := c.Handle.Apps.Create(context.Background(), apps.NewApp{Name: "Auth API", Kind: store.AppAuthAPI}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	client := authapi.NewAuthApi(*duoapi.NewDuoApi(app.ClientID, app.ClientSecret, c.Host, "enrollportal-test"))
	client.SetCustomHTTPClient(c.Client())
	return client
}

// Twenty wrong passcodes at once, spread by the proxy over both instances:
// no more than ten are checked, the user is locked out once, and the right
// code is refused afterwards, whichever instance it reaches.
func TestTwoInstancesWrongPasscodesLockTheUserOut(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2)
	client := c.authAPIClient(t)
	secret := enrollTOTP(t, c.Handle, "lou")
	wrong := "000000"
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second, time.Minute} {
		if testkit.TOTPCode(t, secret, time.Now().Add(d)) == wrong {
			wrong = "111111"
		}
	}
	const guesses = 20
	var wg sync.WaitGroup
	results := make([]string, guesses)
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Auth("passcode", authapi.AuthUsername("lou"), authapi.AuthPasscode(wrong), authapi.AuthIpAddr("198.51.100.7"))
			if err != nil {
				t.Errorf("guess %d: %v", i, err)
				return
			}
			results[i] = res.Stat + "/" + res.Response.Result
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != "OK/deny" {
			t.Errorf("guess %d answered %s, want OK/deny", i, r)
		}
	}
	c.wantBothServed(t)
	testkit.WantLockoutHeld(t, c.Handle, "lou", audit.AuthPasscodeFailed, guesses)
	for range 2 { // once on each instance
		res, err := client.Auth("passcode", authapi.AuthUsername("lou"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, time.Now())))
		if err != nil || res.Response.Result != "deny" {
			t.Fatalf("the right code after the lockout: %+v %v, want deny", res, err)
		}
	}
}

var enrollURLInTerminal = regexp.MustCompile(`Please enroll at (https://localhost:\d+/enroll/(\S+))`)

// login_duo against the proxy: its preauth and auth calls reach different
// instances. Not enrolled, it prints a link that opens through the proxy;
// once the user has enrolled through that link's claims, a passcode logs
// in, and the same passcode again is a replay, refused by the other
// instance.
func TestTwoInstancesLoginDuoEnrollThenPasscode(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2)
	ctx := context.Background()
	app, err := c.Handle.Apps.Create(ctx, apps.NewApp{Name: "SSH", Kind: store.AppUnix, NewUserPolicy: store.NewUserRequireEnrollment}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	ld := testkit.NewLoginDuo(t, app.ClientID, app.ClientSecret, c.Host, c.Files.CAFile, "secure")
	exit, out := ld.Start(t).Wait()
	m := enrollURLInTerminal.FindStringSubmatch(out)
	if m == nil || exit == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("unenrolled login: exit %d, terminal %q", exit, out)
	}
	for range 2 { // the link opens on both instances
		resp, err := c.Client().Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the enrollment link answered %d", resp.StatusCode)
		}
	}
	claims, err := c.Handle.Enroll.OpenInline(m[2])
	if err != nil || claims.Username != testkit.LoginDuoUser {
		t.Fatalf("the link's claims: %+v %v", claims, err)
	}
	secret := enrollTOTP(t, c.Handle, claims.Username)

	good := testkit.TOTPCode(t, secret, time.Now())
	for i, wantRan := range []bool{true, false} {
		s := ld.Start(t)
		s.WaitFor("Enter the passcode from your authenticator app")
		s.TypeLine(good)
		exit, out := s.Wait()
		if ran := exit == 0 && strings.Contains(out, "COMMAND-RAN"); ran != wantRan {
			t.Fatalf("passcode use %d: exit %d, terminal %q", i+1, exit, out)
		}
	}
	c.wantBothServed(t)
}

// Duo's Node.js client signs a user in through the Universal Prompt behind
// the proxy: the authorize request, the prompt's pages (session cookie and
// CSRF token made by one instance, taken by the other), the passcode, and
// the code exchange each reach the next instance.
func TestTwoInstancesUniversalPromptSignInWithDuosNodeClient(t *testing.T) {
	c := newCluster(t, testkit.StartPostgres(t), 2)
	ctx := context.Background()
	const callbackURL = "https://app.example.com/duo-callback"
	app, err := c.Handle.Apps.Create(ctx, apps.NewApp{Name: "Payroll", Kind: store.AppWeb, RedirectURIs: []string{callbackURL}}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	secret := enrollTOTP(t, c.Handle, "pia")
	node := testkit.NewDuoNodeClient(t, app.ClientID, app.ClientSecret, c.Host, callbackURL, c.Files.CAFile)
	var auth struct {
		URL string `json:"url"`
	}
	if failed, msg := node.Call(&auth, "authurl", "pia", strings.Repeat("s", 36)); failed {
		t.Fatal(msg)
	}
	browser := testkit.NewClientAt(t, c.URL, c.Client().Transport)
	r := browser.Get(auth.URL)
	prompt := r.Location()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(prompt, "/prompt/") {
		t.Fatalf("authorize: %d %q", r.StatusCode, prompt)
	}
	if r := browser.Get(prompt); r.Location() != prompt+"/passcode" {
		t.Fatalf("the prompt: %d %q, want the passcode step", r.StatusCode, r.Location())
	}
	if r := browser.Get(prompt + "/passcode"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Enter your passcode") {
		t.Fatalf("the passcode page: %d", r.StatusCode)
	}
	if r := browser.Post(prompt+"/passcode", url.Values{"code": {testkit.TOTPCode(t, secret, time.Now())}}); r.Location() != prompt+"/return" {
		t.Fatalf("the passcode: %d %q\n%s", r.StatusCode, r.Location(), r.Body)
	}
	r = browser.Get(prompt + "/return")
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), callbackURL+"?") {
		t.Fatalf("the return: %d %q, want the redirect to the application", r.StatusCode, r.Header.Get("Location"))
	}
	var token struct {
		PreferredUsername string `json:"preferred_username"`
		AuthResult        struct {
			Result string `json:"result"`
		} `json:"auth_result"`
		AuthContext struct {
			Factor string `json:"factor"`
		} `json:"auth_context"`
	}
	if failed, msg := node.Call(&token, "exchange", loc.Query().Get("duo_code"), "pia"); failed {
		t.Fatalf("exchange: %s", msg)
	}
	if token.AuthResult.Result != "allow" || token.PreferredUsername != "pia" || token.AuthContext.Factor != "duo_mobile_passcode" {
		t.Fatalf("token %+v", token)
	}
	c.wantBothServed(t)
}
