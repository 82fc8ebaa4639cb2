package duo_test

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// unixUser is the account login_duo runs for, and names the portal user.
const unixUser = testkit.LoginDuoUser

// newLoginDuo configures login_duo for app at host.
func newLoginDuo(t *testing.T, app apps.Created, host, caFile, failmode string) testkit.LoginDuo {
	t.Helper()
	return testkit.NewLoginDuo(t, app.ClientID, app.ClientSecret, host, caFile, failmode)
}

// loginDuoPortal is a portal over TLS with a unix application and login_duo
// configured for it.
func loginDuoPortal(t *testing.T, newUserPolicy string) (*testkit.Portal, testkit.TLSFiles, testkit.LoginDuo) {
	t.Helper()
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, newUserPolicy)
	return p, files, newLoginDuo(t, app, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure")
}

var enrollURLPattern = regexp.MustCompile(`Please enroll at (https://localhost:\d+/enroll/\S+)`)

func TestLoginDuoEnrollThenLogInWithPasscode(t *testing.T) {
	p, files, ld := loginDuoPortal(t, store.NewUserRequireEnrollment)
	ctx := context.Background()

	// 1. Not enrolled: the terminal prints where to enroll, and the
	// command does not run.
	code1, out := ld.Start(t).Wait()
	m := enrollURLPattern.FindStringSubmatch(out)
	if m == nil || code1 == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("unenrolled login: exit %d, terminal %q", code1, out)
	}
	enrollURL := m[1]

	// 2. The URL opens the enrollment page, and names this user.
	resp, err := files.Client().Get(enrollURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrollment URL answered %d", resp.StatusCode)
	}
	claims, err := p.Enroll.OpenInline(strings.TrimPrefix(enrollURL, p.URL+"/enroll/"))
	if err != nil || claims.Username != unixUser {
		t.Fatalf("enrollment URL claims %+v, %v", claims, err)
	}
	// Printing the URL wrote no user and no enrollment link.
	if _, err := p.Store.UserByUsername(ctx, unixUser); err == nil {
		t.Fatal("preauth created the user")
	}

	// 3. The user enrolls an authenticator app through that URL's claims,
	// as the enrollment pages do.
	sub := enroll.Subject{User: enroll.NewSubjectUser(claims.Username), Who: audit.Who{Type: audit.ActorUser, Name: claims.Username}}
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneMobile, Number: "+14155550100", Platform: store.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, testkit.TOTPCode(t, setup.Secret, p.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	p.Clock.Advance(time.Minute)

	// 4. Logging in again asks for a passcode; the right one runs the command.
	s := ld.Start(t)
	s.WaitFor("Enter the passcode from your authenticator app")
	s.TypeLine(testkit.TOTPCode(t, setup.Secret, p.Clock.Now()))
	exit, out := s.Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Fatalf("login with the right passcode: exit %d, terminal %q", exit, out)
	}

	// 5. A wrong passcode is refused.
	s = ld.Start(t)
	s.WaitFor("Enter the passcode")
	s.TypeLine(wrongCode(t, setup.Secret, p.Clock.Now()))
	exit, out = s.Wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "Incorrect passcode") {
		t.Fatalf("login with a wrong passcode: exit %d, terminal %q", exit, out)
	}

	// 6. The same right passcode a second time is a replay, refused.
	p.Clock.Advance(time.Minute)
	good := testkit.TOTPCode(t, setup.Secret, p.Clock.Now())
	for i, wantRan := range []bool{true, false} {
		s = ld.Start(t)
		s.WaitFor("Enter the passcode")
		s.TypeLine(good)
		exit, out = s.Wait()
		if ran := exit == 0 && strings.Contains(out, "COMMAND-RAN"); ran != wantRan {
			t.Fatalf("passcode use %d: exit %d, terminal %q", i+1, exit, out)
		}
	}

	actions := auditActions(t, p, unixUser)
	if count(actions, audit.AuthEnrollRequired) != 1 || count(actions, audit.AuthAllowed) != 2 || count(actions, audit.AuthPasscodeFailed) != 2 {
		t.Errorf("audit of %s = %v", unixUser, actions)
	}
}

func TestLoginDuoPolicyOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		newUserPolicy string
		status        string // "" leaves the user unknown
		wantRan       bool
		wantText      string // login_duo prints nothing for allow
	}{
		{"unknown user under allow", store.NewUserAllow, "", true, ""},
		{"unknown user under deny", store.NewUserDeny, "", false, "not enrolled"},
		{"partially enrolled user under allow must enroll", store.NewUserAllow, store.StatusActive, false, "Please enroll at https://"},
		{"bypass user", store.NewUserRequireEnrollment, store.StatusBypass, true, ""},
		{"disabled user", store.NewUserAllow, store.StatusDisabled, false, "disabled"},
		{"locked out user", store.NewUserAllow, store.StatusLockedOut, false, "locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, ld := loginDuoPortal(t, tt.newUserPolicy)
			if tt.status != "" {
				if _, err := p.Users.Create(context.Background(), users.NewUser{Username: unixUser}, audit.CLI()); err != nil {
					t.Fatal(err)
				}
				setStatus(t, p, unixUser, tt.status)
			}
			exit, out := ld.Start(t).Wait()
			ran := exit == 0 && strings.Contains(out, "COMMAND-RAN")
			if ran != tt.wantRan || !strings.Contains(out, tt.wantText) {
				t.Errorf("exit %d, terminal %q; want ran=%v and %q", exit, out, tt.wantRan, tt.wantText)
			}
		})
	}
}

func TestLoginDuoPortalDown(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := "localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	ln.Close()
	files := testkit.NewTLSFiles(t)
	app := apps.Created{ClientID: "DIXXXXXXXXXXXXXXXXXX", ClientSecret: strings.Repeat("s", 40)}

	exit, out := newLoginDuo(t, app, host, files.CAFile, "secure").Start(t).Wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") {
		t.Errorf("portal down, failmode=secure: exit %d, terminal %q; want denied", exit, out)
	}
	// The same with failmode=safe lets the user in: the test above tells
	// the two apart.
	exit, out = newLoginDuo(t, app, host, files.CAFile, "safe").Start(t).Wait()
	if exit != 0 || !strings.Contains(out, "COMMAND-RAN") {
		t.Errorf("portal down, failmode=safe: exit %d, terminal %q; want let in", exit, out)
	}
}

// restCall sends a v1-signed form POST as duo_unix 1.x does and decodes the
// BSON answer.
func restCall(t *testing.T, client *http.Client, base, ikey, skey, path string, params url.Values) (int, bson.Raw) {
	t.Helper()
	host := strings.TrimPrefix(base, "https://")
	body := duo.CanonParamsV1(params)
	sig := duo.Sign(duo.SigV1, skey, duo.CanonV1("POST", strings.Split(host, ":")[0], path, body))
	req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := bson.Raw(raw).Validate(); err != nil {
		t.Fatalf("%s answered %d with no BSON document: %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, bson.Raw(raw)
}

func TestRESTv1AnswersBSON(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	client := files.Client()

	status, doc := restCall(t, client, p.URL, app.ClientID, app.ClientSecret, "/rest/v1/preauth.bson",
		url.Values{"user": {"Zoe"}, "ipaddr": {"10.1.2.3"}, "hostname": {"bastion 1"}, "failmode": {"secure"}})
	resp := doc.Lookup("response").Document()
	if status != 200 || doc.Lookup("stat").StringValue() != "OK" || resp.Lookup("result").StringValue() != "enroll" ||
		!strings.HasPrefix(resp.Lookup("status").StringValue(), "Please enroll at "+p.URL+"/enroll/") {
		t.Fatalf("preauth.bson = %d %s", status, doc)
	}

	failures := []struct {
		name       string
		ikey, skey string
		path       string
		params     url.Values
		wantStatus int
		wantCode   int32
	}{
		{"bad signature", app.ClientID, strings.Repeat("k", 40), "/rest/v1/preauth.bson", url.Values{"user": {"zoe"}}, 401, 40103},
		{"unknown ikey", "DINOSUCHKEY000000000", app.ClientSecret, "/rest/v1/preauth.bson", url.Values{"user": {"zoe"}}, 401, 40102},
		{"missing user", app.ClientID, app.ClientSecret, "/rest/v1/preauth.bson", url.Values{"ipaddr": {"10.1.2.3"}}, 400, 40002},
		{"unknown factor", app.ClientID, app.ClientSecret, "/rest/v1/auth.bson", url.Values{"user": {"zoe"}, "factor": {"push"}}, 400, 40002},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			status, doc := restCall(t, client, p.URL, tt.ikey, tt.skey, tt.path, tt.params)
			code, ok := doc.Lookup("code").Int32OK()
			if status != tt.wantStatus || doc.Lookup("stat").StringValue() != "FAIL" || !ok || code != tt.wantCode ||
				doc.Lookup("message").StringValue() == "" {
				t.Errorf("got %d %s, want %d with int32 code %d", status, doc, tt.wantStatus, tt.wantCode)
			}
		})
	}
	entries, err := p.Store.AuditForTarget(context.Background(), audit.TargetUser, "zoe", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != audit.AuthEnrollRequired || entries[0].ActorType != audit.ActorApplication ||
		!strings.Contains(entries[0].Details, `"hostname":"bastion 1"`) || !strings.Contains(entries[0].Details, `"ip":"10.1.2.3"`) {
		t.Errorf("audit of zoe = %+v, want only the first preauth's, naming host and address", entries)
	}
}
