package duo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

var helpDesk = audit.Who{Type: audit.ActorAdmin, Name: "helpdesk@example.org"}

// issueBypass makes bypass codes for username as an admin would.
func issueBypass(t *testing.T, p *testkit.Portal, username string, o factors.BypassOptions) []string {
	t.Helper()
	u, err := p.Store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := p.Factors.IssueBypassCodes(context.Background(), u, o, helpDesk)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

func TestAuthAPIBypassCodeWorksItsReuseCountThenNoMore(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	enrollPhone(t, a.p, "lena")
	codes := issueBypass(t, a.p, "lena", factors.BypassOptions{Count: 2, Uses: 2, TTL: 24 * time.Hour})
	if len(codes) != 2 || len(codes[0]) != 9 || codes[0] == codes[1] {
		t.Fatalf("codes %q", codes)
	}
	auth := func(code string) string {
		t.Helper()
		res, err := a.client.Auth("passcode", authapi.AuthUsername("lena"), authapi.AuthPasscode(code))
		if err != nil || res.Stat != "OK" {
			t.Fatalf("Auth = %+v, %v", res, err)
		}
		return res.Response.Result
	}
	// Each code works twice (its reuse count), then is refused.
	for i, want := range []string{"allow", "allow", "deny"} {
		if got := auth(codes[0]); got != want {
			t.Fatalf("use %d of a 2-use code: %s, want %s", i+1, got, want)
		}
	}
	if got := auth(codes[1]); got != "allow" {
		t.Fatalf("second code: %s", got)
	}
	// A code made 24 hours ago has expired. (duo_api_golang signs with the
	// wall clock, so the portal's clock stays at now and the code is
	// issued in the past.)
	now := a.p.Clock.Now()
	a.p.Clock.Set(now.Add(-24*time.Hour - time.Second))
	old := issueBypass(t, a.p, "lena", factors.BypassOptions{Count: 1, Uses: 1, TTL: 24 * time.Hour})
	a.p.Clock.Set(now)
	if got := auth(old[0]); got != "deny" {
		t.Fatalf("expired code: %s", got)
	}
	allowed := auditOf(t, a.p, "lena", audit.AuthAllowed)
	if len(allowed) != 3 || !strings.Contains(allowed[0].Details, `"factor":"bypass_code"`) {
		t.Fatalf("allowed records: %+v", allowed)
	}
	if n := count(auditActions(t, a.p, "lena"), audit.AuthPasscodeFailed); n != 2 {
		t.Errorf("%d failed passcodes recorded, want 2 (a used-up and an expired code count as wrong)", n)
	}
}

func TestAuthAPIBypassCodeThatNeverExpires(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	enrollPhone(t, a.p, "nico")
	now := a.p.Clock.Now()
	a.p.Clock.Set(now.Add(-400 * 24 * time.Hour))
	codes := issueBypass(t, a.p, "nico", factors.BypassOptions{Count: 1, Uses: 1})
	a.p.Clock.Set(now)
	res, err := a.client.Auth("passcode", authapi.AuthUsername("nico"), authapi.AuthPasscode(codes[0]))
	if err != nil || res.Response.Result != "allow" {
		t.Fatalf("Auth(never-expiring code a year on) = %+v, %v", res, err)
	}
	// Cleared codes stop working.
	codes = issueBypass(t, a.p, "nico", factors.BypassOptions{Count: 1, Uses: 5, TTL: time.Hour})
	u, _ := a.p.Store.UserByUsername(context.Background(), "nico")
	if n, err := a.p.Factors.ClearBypassCodes(context.Background(), u, helpDesk); err != nil || n != 1 {
		t.Fatalf("clear: %d, %v", n, err)
	}
	res, err = a.client.Auth("passcode", authapi.AuthUsername("nico"), authapi.AuthPasscode(codes[0]))
	if err != nil || res.Response.Result != "deny" {
		t.Fatalf("Auth(cleared code) = %+v, %v", res, err)
	}
}

func TestLoginDuoBypassCodeLogsInOnce(t *testing.T) {
	p, _, ld := loginDuoPortal(t, store.NewUserRequireEnrollment)
	enrollPhone(t, p, unixUser)
	codes := issueBypass(t, p, unixUser, factors.BypassOptions{Count: 1, Uses: 1, TTL: 24 * time.Hour})

	s := ld.Start(t)
	s.WaitFor("Enter the passcode")
	s.TypeLine(codes[0])
	exit, out := s.Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("login_duo with a bypass code: exit %d, terminal %q", exit, out)
	}
	// Single use: the same code again is refused.
	s = ld.Start(t)
	s.WaitFor("Enter the passcode")
	s.TypeLine(codes[0])
	exit, out = s.Wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "Incorrect passcode") {
		t.Fatalf("login_duo with a used bypass code: exit %d, terminal %q", exit, out)
	}
	allowed := auditOf(t, p, unixUser, audit.AuthAllowed)
	if len(allowed) != 1 || !strings.Contains(allowed[0].Details, `"factor":"bypass_code"`) {
		t.Fatalf("allowed records: %+v", allowed)
	}
}

func TestLoginDuoHardwareTokenCodeLogsInAUserWithOnlyAToken(t *testing.T) {
	p, _, ld := loginDuoPortal(t, store.NewUserRequireEnrollment)
	ctx := context.Background()
	if _, err := p.Users.Create(ctx, users.NewUser{Username: unixUser}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	lines, err := p.Factors.ParseTokens(ctx, strings.NewReader("K1,3132333435363738393031323334353637383930,hotp-6,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Factors.ImportTokens(ctx, lines, p.Enroll, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if err := p.Factors.AssignToken(ctx, "K1", unixUser, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	// RFC 4226 code at counter 2: a press or two lost is within the window.
	s := ld.Start(t)
	s.WaitFor("Enter the passcode")
	s.TypeLine("359152")
	exit, out := s.Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("login_duo with a token code: exit %d, terminal %q", exit, out)
	}
	// The same press again is a replay.
	s = ld.Start(t)
	s.WaitFor("Enter the passcode")
	s.TypeLine("359152")
	if exit, out := s.Wait(); exit == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("replayed token code: exit %d, terminal %q", exit, out)
	}
	allowed := auditOf(t, p, unixUser, audit.AuthAllowed)
	if len(allowed) != 1 || !strings.Contains(allowed[0].Details, `"factor":"hardware_token"`) {
		t.Fatalf("allowed records: %+v", allowed)
	}
}

// TestAuthAPIEnrollWithBypassCodesAnswersBackupCodesThatWorkOnce:
// /auth/v2/enroll with bypass_codes=N creates the user, the link and N
// codes in one change; the codes are answered (the only time), never
// expire, and each works once at the Auth API's auth once the user has
// enrolled (until then the policy asks them to enroll, code or not).
func TestAuthAPIEnrollWithBypassCodesAnswersBackupCodesThatWorkOnce(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	ctx := context.Background()
	type enrolled struct {
		Response struct {
			Username    string   `json:"username"`
			BypassCodes []string `json:"bypass_codes"`
		} `json:"response"`
		Stat string `json:"stat"`
	}
	call := func(params url.Values) enrolled {
		t.Helper()
		resp, body, err := a.client.SignedCall(http.MethodPost, "/auth/v2/enroll", params, duoapi.UseTimeout)
		var e enrolled
		if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &e) != nil || e.Stat != "OK" {
			t.Fatalf("enroll %v = %v %s, %v", params, resp, body, err)
		}
		return e
	}
	e := call(url.Values{"username": {"rosa"}, "bypass_codes": {"2"}, "valid_secs": {"3600"}})
	codes := e.Response.BypassCodes
	if len(codes) != 2 || len(codes[0]) != 9 || codes[0] == codes[1] {
		t.Fatalf("bypass_codes = %q", codes)
	}
	u := testkit.Got(a.p.Store.UserByUsername(ctx, "rosa")).Must(t)
	stored := testkit.Got(a.p.Store.BypassCodesByUser(ctx, u.ID)).Must(t)
	if len(stored) != 2 || stored[0].UsesLeft != 1 || stored[0].ExpiresAt != nil {
		t.Fatalf("stored codes = %+v", stored)
	}
	if n := count(auditActions(t, a.p, "rosa"), audit.BypassCodesCreated); n != 1 {
		t.Fatalf("%d bypass code records", n)
	}
	auth := func(code string) string {
		t.Helper()
		res, err := a.client.Auth("passcode", authapi.AuthUsername("rosa"), authapi.AuthPasscode(code))
		if err != nil || res.Stat != "OK" {
			t.Fatalf("Auth = %+v, %v", res, err)
		}
		return res.Response.Result
	}
	if got := auth(codes[0]); got != "deny" {
		t.Fatalf("a code of a user who has not enrolled: %s", got)
	}
	enrollPhone(t, a.p, "rosa")
	for i, want := range []string{"allow", "deny"} {
		if got := auth(codes[0]); got != want {
			t.Fatalf("use %d of a code from enroll: %s, want %s", i+1, got, want)
		}
	}

	// Without bypass_codes, or with 0, the answer carries an empty list and
	// the user has no code.
	for _, params := range []url.Values{{"username": {"sami"}}, {"username": {"tove"}, "bypass_codes": {"0"}}} {
		e := call(params)
		if e.Response.BypassCodes == nil || len(e.Response.BypassCodes) != 0 {
			t.Fatalf("enroll %v: bypass_codes = %v", params, e.Response.BypassCodes)
		}
		u := testkit.Got(a.p.Store.UserByUsername(ctx, params.Get("username"))).Must(t)
		if n := len(testkit.Got(a.p.Store.BypassCodesByUser(ctx, u.ID)).Must(t)); n != 0 {
			t.Fatalf("%s has %d codes", u.Username, n)
		}
	}
}
