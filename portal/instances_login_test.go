package main

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// totpCode is what an authenticator app holding secret shows at at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollTOTP gives username (created when missing) an authenticator app
// through the enrollment service, as the pages do, and returns its secret.
func enrollTOTP(t *testing.T, p *testkit.Portal, username string) string {
	t.Helper()
	ctx := context.Background()
	u, err := p.Store.UserByUsername(ctx, username)
	if err != nil {
		u = enroll.NewSubjectUser(username)
	}
	sub := enroll.Subject{User: u, Who: audit.Who{Type: audit.ActorUser, Name: username}}
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneMobile, Number: "+14155550123", Platform: store.PlatformIOS})
	if err != nil {
		t.Fatal(err)
	}
	// The confirming code is the previous step's, so that the first
	// login's code (this step's) is not a replay of it.
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, totpCode(t, setup.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	return setup.Secret
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
	c := newCluster(t, filepath.Join(t.TempDir(), "portal.db"), 2)
	client := c.authAPIClient(t)
	secret := enrollTOTP(t, c.Handle, "lou")
	wrong := "000000"
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second, time.Minute} {
		if totpCode(t, secret, time.Now().Add(d)) == wrong {
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
		res, err := client.Auth("passcode", authapi.AuthUsername("lou"), authapi.AuthPasscode(totpCode(t, secret, time.Now())))
		if err != nil || res.Response.Result != "deny" {
			t.Fatalf("the right code after the lockout: %+v %v, want deny", res, err)
		}
	}
}
