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

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"
	"go.mongodb.org/mongo-driver/v2/bson"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// authAPIPortal is a portal over TLS with an Auth API application and
// duo_api_golang's client pointed at it.
type authAPIPortal struct {
	p      *testkit.Portal
	tls    testkit.TLSFiles
	app    apps.Created
	client *authapi.AuthApi
	host   string
}

func newAuthAPIPortal(t *testing.T, newUserPolicy string, opts ...testkit.Option) authAPIPortal {
	t.Helper()
	p, files := testkit.ServeTLS(t, opts...)
	// duo_api_golang signs with the wall clock.
	p.Clock.Set(time.Now())
	a := authAPIPortal{p: p, tls: files, host: strings.TrimPrefix(p.URL, "https://")}
	a.app = newApp(t, p, store.AppAuthAPI, newUserPolicy)
	a.client = authapi.NewAuthApi(*duoapi.NewDuoApi(a.app.ClientID, a.app.ClientSecret, a.host, "enrollportal-test"))
	a.client.SetCustomHTTPClient(files.Client())
	return a
}

func TestAuthAPIPingAndCheck(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	ping, err := a.client.Ping()
	if err != nil || ping.Stat != "OK" || ping.Response.Time != a.p.Clock.Now().Unix() {
		t.Fatalf("Ping = %+v, %v", ping, err)
	}
	check, err := a.client.Check()
	if err != nil || check.Stat != "OK" || check.Response.Time == 0 {
		t.Fatalf("Check = %+v, %v", check, err)
	}
	// duo_api_golang's JSON calls sign with v5, over the body too.
	for _, call := range []struct {
		method, path string
		params       duoapi.JSONParams
	}{
		{"GET", "/auth/v2/check", nil},
		{"POST", "/auth/v2/preauth", duoapi.JSONParams{"username": "jsonuser", "ipaddr": "10.0.0.1"}},
		// Typed values, as newer clients send them in a v5 body.
		{"POST", "/auth/v2/preauth", duoapi.JSONParams{"username": "jsonuser", "client_supports_verified_push": true, "trusted_device_token": nil}},
		{"POST", "/auth/v2/enroll", duoapi.JSONParams{"username": "typed", "valid_secs": 3600}},
	} {
		resp, body, err := a.client.JSONSignedCall(call.method, call.path, call.params)
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"stat":"OK"`) {
			t.Errorf("v5 %s %s: %v %s", call.method, call.path, err, body)
		}
	}
}

func TestAuthAPIPreauthEnrollThenPasscode(t *testing.T) {
	a := newAuthAPIPortal(t, store.NewUserRequireEnrollment)
	ctx := context.Background()

	pre, err := a.client.Preauth(authapi.PreauthUsername("Newbie@example.org"), authapi.PreauthIpAddr("198.51.100.4"))
	if err != nil {
		t.Fatal(err)
	}
	if pre.Stat != "OK" || pre.Response.Result != "enroll" || !strings.HasPrefix(pre.Response.Enroll_Portal_Url, a.p.URL+"/enroll/") {
		t.Fatalf("Preauth(unknown) = %+v", pre.Response)
	}
	// The URL opens the enrollment page, over the same TLS.
	resp, err := a.tls.Client().Get(pre.Response.Enroll_Portal_Url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrollment URL answered %d", resp.StatusCode)
	}
	// Asking again writes no enrollment link and creates no user.
	if _, err := a.client.Preauth(authapi.PreauthUsername("newbie")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.p.Store.UserByUsername(ctx, "newbie"); err == nil {
		t.Fatal("preauth created the user")
	}
	// The repeat counts on the first record instead of adding one.
	if got := auditOf(t, a.p, "newbie", audit.AuthEnrollRequired); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("enroll_required audit records %+v, want one with count 2", got)
	}

	secret := enrollPhone(t, a.p, "newbie")

	pre, err = a.client.Preauth(authapi.PreauthUsername("EXAMPLE\\newbie"))
	if err != nil {
		t.Fatal(err)
	}
	if pre.Response.Result != "auth" || len(pre.Response.Devices) != 1 || pre.Response.Devices[0].Capabilities[0] != "mobile_otp" {
		t.Fatalf("Preauth(enrolled) = %+v", pre.Response)
	}
	// The menu names the phone as the device page and the emails do.
	_, raw, err := a.client.SignedCall(http.MethodPost, "/auth/v2/preauth", url.Values{"username": {"newbie"}})
	if err != nil {
		t.Fatal(err)
	}
	var named struct {
		Response struct {
			Devices []struct {
				DisplayName string `json:"display_name"`
			} `json:"devices"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || len(named.Response.Devices) != 1 || named.Response.Devices[0].DisplayName != "Mobile phone ending in 0123" {
		t.Errorf("preauth's display_name: %s (%v), want the device page's label", raw, err)
	}
	good := testkit.TOTPCode(t, secret, a.p.Clock.Now())
	res, err := a.client.Auth("passcode", authapi.AuthUsername("newbie"), authapi.AuthPasscode(good), authapi.AuthIpAddr("198.51.100.4"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stat != "OK" || res.Response.Result != "allow" || res.Response.Status != "allow" {
		t.Fatalf("Auth(correct passcode) = %+v", res.Response)
	}
	// The same code never works twice.
	res, err = a.client.Auth("passcode", authapi.AuthUsername("newbie"), authapi.AuthPasscode(good))
	if err != nil {
		t.Fatal(err)
	}
	if res.Response.Result != "deny" || !strings.Contains(res.Response.Status_Msg, "Incorrect passcode") {
		t.Fatalf("Auth(replayed passcode) = %+v", res.Response)
	}
	// Async: the outcome waits under a txid.
	a.p.Clock.Advance(30 * time.Second)
	res, err = a.client.Auth("auto", authapi.AuthUsername("newbie"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, a.p.Clock.Now())), authapi.AuthAsync())
	if err != nil {
		t.Fatal(err)
	}
	if res.Response.Txid == "" {
		t.Fatalf("Auth(async) = %+v", res.Response)
	}
	st, err := a.client.AuthStatus(res.Response.Txid)
	if err != nil || st.Stat != "OK" || st.Response.Result != "allow" {
		t.Fatalf("AuthStatus = %+v, %v", st, err)
	}
	actions := auditActions(t, a.p, "newbie")
	if count(actions, audit.AuthAllowed) != 2 || count(actions, audit.AuthPasscodeFailed) != 1 {
		t.Errorf("audit of newbie = %v, want 2 %s and 1 %s", actions, audit.AuthAllowed, audit.AuthPasscodeFailed)
	}
}

func TestAuthAPINewUserPolicies(t *testing.T) {
	for _, tt := range []struct{ policy, want string }{
		{store.NewUserAllow, "allow"}, {store.NewUserDeny, "deny"}, {store.NewUserRequireEnrollment, "enroll"},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			a := newAuthAPIPortal(t, tt.policy)
			pre, err := a.client.Preauth(authapi.PreauthUsername("stranger"))
			if err != nil {
				t.Fatal(err)
			}
			if pre.Response.Result != tt.want || pre.Response.Status_Msg == "" {
				t.Errorf("Preauth = %+v, want %s", pre.Response, tt.want)
			}
			res, err := a.client.Auth("auto", authapi.AuthUsername("stranger"))
			if err != nil {
				t.Fatal(err)
			}
			wantAuth := map[string]string{"allow": "allow", "deny": "deny", "enroll": "deny"}[tt.want]
			if res.Response.Result != wantAuth {
				t.Errorf("Auth = %+v, want %s", res.Response, wantAuth)
			}
		})
	}
}

func TestAuthAPIUserStatuses(t *testing.T) {
	a := newAuthAPIPortal(t, store.NewUserAllow)
	ctx := context.Background()
	for _, name := range []string{"bea", "dan", "pat"} {
		if _, err := a.p.Users.Create(ctx, users.NewUser{Username: name}, audit.CLI()); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(t, a.p, "bea", store.StatusBypass)
	setStatus(t, a.p, "dan", store.StatusDisabled)
	for _, tt := range []struct{ user, want string }{
		{"bea", "allow"}, {"dan", "deny"}, {"pat", "enroll"},
	} {
		pre, err := a.client.Preauth(authapi.PreauthUsername(tt.user))
		if err != nil {
			t.Fatal(err)
		}
		if pre.Response.Result != tt.want {
			t.Errorf("Preauth(%s) = %+v, want %s", tt.user, pre.Response, tt.want)
		}
	}
}

func TestAuthAPIEnrollAndEnrollStatus(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	ctx := context.Background()
	en, err := a.client.Enroll(authapi.EnrollUsername("Carol"), authapi.EnrollValidSeconds(3600))
	if err != nil {
		t.Fatal(err)
	}
	if en.Stat != "OK" || en.Response.Username != "carol" || !strings.HasPrefix(en.Response.User_Id, "DU") ||
		!strings.HasPrefix(en.Response.Activation_Code, a.p.URL+"/enroll/") ||
		!strings.HasPrefix(en.Response.Activation_Barcode, "data:image/png;base64,") ||
		en.Response.Expiration != a.p.Clock.Now().Add(time.Hour).Unix() {
		t.Fatalf("Enroll = %+v", en.Response)
	}
	st, err := a.client.EnrollStatus(en.Response.User_Id, en.Response.Activation_Code)
	if err != nil || st.Response != "waiting" {
		t.Fatalf("EnrollStatus before = %+v, %v", st, err)
	}
	if st, _ := a.client.EnrollStatus("DUNOSUCHUSER00000000", en.Response.Activation_Code); st.Response != "invalid" {
		t.Errorf("EnrollStatus(other user) = %q, want invalid", st.Response)
	}
	// Carol finishes through her link.
	token := strings.TrimPrefix(en.Response.Activation_Code, a.p.URL+"/enroll/")
	link, u, err := a.p.Enroll.OpenLink(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	sub := enroll.Subject{User: u, LinkID: link.ID, Who: audit.Who{Type: audit.ActorUser, Name: u.Username}}
	setup, err := a.p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, testkit.TOTPCode(t, setup.Secret, a.p.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	st, err = a.client.EnrollStatus(en.Response.User_Id, en.Response.Activation_Code)
	if err != nil || st.Response != "success" {
		t.Fatalf("EnrollStatus after = %+v, %v", st, err)
	}
	// A taken username is refused.
	again, err := a.client.Enroll(authapi.EnrollUsername("carol"))
	if err != nil || again.Stat != "FAIL" || again.Code == nil || *again.Code != 40002 {
		t.Errorf("Enroll(taken) = %+v, %v", again, err)
	}
}

func TestAuthAPILockoutAfterTenWrongPasscodes(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	secret := enrollPhone(t, a.p, "mallory")
	wrong := wrongCode(t, secret, a.p.Clock.Now())
	for i := 1; i <= 10; i++ {
		res, err := a.client.Auth("passcode", authapi.AuthUsername("mallory"), authapi.AuthPasscode(wrong))
		if err != nil {
			t.Fatal(err)
		}
		if res.Response.Result != "deny" {
			t.Fatalf("wrong passcode %d: %+v", i, res.Response)
		}
		if i == 9 && !strings.Contains(res.Response.Status_Msg, "1 try left") {
			t.Errorf("ninth wrong passcode says %q", res.Response.Status_Msg)
		}
	}
	u, err := a.p.Store.UserByUsername(context.Background(), "mallory")
	if err != nil || u.Status != store.StatusLockedOut {
		t.Fatalf("after 10 wrong passcodes status = %q, %v", u.Status, err)
	}
	// Now even the right code is refused, and preauth says why.
	res, err := a.client.Auth("passcode", authapi.AuthUsername("mallory"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, a.p.Clock.Now())))
	if err != nil || res.Response.Result != "deny" || !strings.Contains(res.Response.Status_Msg, "locked") {
		t.Fatalf("Auth(locked out, right code) = %+v, %v", res, err)
	}
	pre, err := a.client.Preauth(authapi.PreauthUsername("mallory"))
	if err != nil || pre.Response.Result != "deny" {
		t.Fatalf("Preauth(locked out) = %+v, %v", pre, err)
	}
	actions := auditActions(t, a.p, "mallory")
	if count(actions, audit.AuthPasscodeFailed) != 10 || count(actions, audit.UserLockedOut) != 1 {
		t.Errorf("audit of mallory = %v", actions)
	}
}

func TestAuthAPIThrottlesPasscodeGuessesPerAddress(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	var last int
	var header http.Header
	for i := 0; i < 31; i++ {
		last, header, _ = rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
			url.Values{"username": {"guess" + string(rune('a'+i%26))}, "factor": {"passcode"}, "passcode": {"123456"}}.Encode(), time.Now())
	}
	if last != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Fatalf("31st passcode from one address: %d, Retry-After %q", last, header.Get("Retry-After"))
	}
	// Another person behind the same host (a bastion passes their address
	// as ipaddr) is not held up.
	other, _, _ := rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
		url.Values{"username": {"someone"}, "factor": {"passcode"}, "passcode": {"123456"}, "ipaddr": {"198.51.100.9"}}.Encode(), time.Now())
	if other != http.StatusOK {
		t.Errorf("a passcode from another end-user address answered %d", other)
	}
}

func TestAuthAPIRejectsBadRequests(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	web := newApp(t, a.p, store.AppWeb, "")
	client := a.tls.Client()
	now := time.Now()
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	tests := []struct {
		name              string
		ikey, skey        string
		method, path, ct  string
		body              string
		date              time.Time
		wantStatus        int
		wantCode          float64
		wantDetailContain string
	}{
		{"neither username nor user_id", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", form("ipaddr", "10.0.0.1"), now, 400, 40002, "username"},
		{"both username and user_id", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", form("username", "a", "user_id", "DU1"), now, 400, 40002, "exactly one"},
		{"malformed form body", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", "username=%zz", now, 400, 40002, "malformed"},
		{"repeated parameter", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", "username=a&username=b", now, 400, 40002, "repeated"},
		{"oversized parameter", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", form("username", strings.Repeat("a", 3000)), now, 400, 40002, "too long"},
		{"username that cannot be one", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", form("username", "a b<c>"), now, 400, 40002, "valid username"},
		{"oversized body", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "", form("username", "a", "pad", strings.Repeat("x", 20000)), now, 413, 41301, ""},
		{"text/plain body", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "text/plain", "username=a", now, 400, 40002, "application/x-www-form-urlencoded"},
		{"multipart body", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "multipart/form-data; boundary=x", "--x--", now, 400, 40002, "application/json"},
		{"JSON that is not an object", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/preauth", "application/json", `["username"]`, now, 400, 40002, "object"},
		{"unknown factor", a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "", form("username", "a", "factor", "telepathy"), now, 400, 40002, "factor"},
		{"date 10 minutes behind", a.app.ClientID, a.app.ClientSecret, "GET", "/auth/v2/check", "", "", now.Add(-10 * time.Minute), 401, 40105, "300 seconds"},
		{"date 10 minutes ahead", a.app.ClientID, a.app.ClientSecret, "GET", "/auth/v2/check", "", "", now.Add(10 * time.Minute), 401, 40105, "300 seconds"},
		{"unknown ikey", "DIUNKNOWN00000000000", a.app.ClientSecret, "GET", "/auth/v2/check", "", "", now, 401, 40102, ""},
		{"wrong secret key", a.app.ClientID, strings.Repeat("x", 40), "GET", "/auth/v2/check", "", "", now, 401, 40103, ""},
		{"web application's credentials", web.ClientID, web.ClientSecret, "GET", "/auth/v2/check", "", "", now, 403, 40301, ""},
		{"unknown txid", a.app.ClientID, a.app.ClientSecret, "GET", "/auth/v2/auth_status?txid=nope", "", "", now, 400, 40002, "txid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := rawCall(t, client, a.p.URL, tt.ikey, tt.skey, tt.method, tt.path, tt.ct, tt.body, tt.date)
			detail, _ := body["message_detail"].(string)
			if status != tt.wantStatus || body["stat"] != "FAIL" || body["code"] != tt.wantCode ||
				body["message"] == "" || !strings.Contains(detail, tt.wantDetailContain) {
				t.Errorf("got %d %v, want %d code %v detail ~%q", status, body, tt.wantStatus, tt.wantCode, tt.wantDetailContain)
			}
		})
	}
	// A bad signature changes nothing: enroll with a wrong key creates no user.
	status, _, _ := rawCall(t, client, a.p.URL, a.app.ClientID, strings.Repeat("y", 40), "POST", "/auth/v2/enroll", "", form("username", "eve"), now)
	if status != http.StatusUnauthorized {
		t.Errorf("enroll with a bad signature: %d", status)
	}
	if _, err := a.p.Store.UserByUsername(context.Background(), "eve"); err == nil {
		t.Error("a badly signed enroll created a user")
	}
	if n := len(auditActions(t, a.p, "eve")); n != 0 {
		t.Errorf("a badly signed call left %d audit records", n)
	}
}

func setStatus(t *testing.T, p *testkit.Portal, username, status string) {
	t.Helper()
	u, err := p.Store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Store.SetUserStatus(context.Background(), u.ID, status, status != store.StatusLockedOut, p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestAuthAPIRefusesV1SignaturesAndAuditsNonCodes(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	enrollPhone(t, a.p, "vic")
	// A v1 signature (no date, replayable) is good only for REST v1.
	params := url.Values{"username": {"vic"}}
	body := duo.CanonParamsV1(params)
	sig := duo.Sign(duo.SigV1, a.app.ClientSecret, duo.CanonV1("POST", "localhost", "/auth/v2/preauth", body))
	req, _ := http.NewRequest("POST", a.p.URL+"/auth/v2/preauth", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.app.ClientID+":"+sig)))
	resp, err := a.tls.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("v1-signed Auth API call answered %d, want 401", resp.StatusCode)
	}
	// A menu word instead of a code is refused and audited, but does not
	// count towards lockout.
	res, err := a.client.Auth("auto", authapi.AuthUsername("vic"), authapi.AuthPasscode("push"))
	if err != nil || res.Response.Result != "deny" || !strings.Contains(res.Response.Status_Msg, "6-digit") {
		t.Fatalf("Auth(passcode push) = %+v, %v", res, err)
	}
	u, _ := a.p.Store.UserByUsername(context.Background(), "vic")
	if u.FailedAttempts != 0 {
		t.Errorf("a non-code counted as a failure (%d)", u.FailedAttempts)
	}
	if got := count(auditActions(t, a.p, "vic"), audit.AuthDenied); got != 1 {
		t.Errorf("%d auth.denied records, want 1", got)
	}
}

func TestAuthAPIDeniesLocationsFromTheGeoIPFile(t *testing.T) {
	geo := testkit.WriteGeoIP(t, map[string]string{"203.0.113.0/24": "KP", "198.51.100.0/24": "DE"})
	a := newAuthAPIPortal(t, "", testkit.WithGeoIP(geo))
	ctx := context.Background()
	global, err := a.p.Store.GlobalPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	global.DeniedCountries = []string{"KP"}
	if err := a.p.Store.UpdatePolicy(ctx, global); err != nil {
		t.Fatal(err)
	}
	secret := enrollPhone(t, a.p, "tess")
	for _, tt := range []struct{ ip, want string }{{"203.0.113.20", "deny"}, {"198.51.100.20", "auth"}, {"192.0.2.1", "auth"}} {
		pre, err := a.client.Preauth(authapi.PreauthUsername("tess"), authapi.PreauthIpAddr(tt.ip))
		if err != nil {
			t.Fatal(err)
		}
		if pre.Response.Result != tt.want {
			t.Errorf("Preauth from %s = %+v, want %s", tt.ip, pre.Response, tt.want)
		}
	}
	// The right passcode from a denied country does not get in either.
	res, err := a.client.Auth("passcode", authapi.AuthUsername("tess"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, a.p.Clock.Now())),
		authapi.AuthIpAddr("203.0.113.20"))
	if err != nil || res.Response.Result != "deny" || !strings.Contains(res.Response.Status_Msg, "location") {
		t.Fatalf("Auth from a denied country = %+v, %v", res, err)
	}
}

func TestAPIUnknownPathsAnswerInTheirEnvelope(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	client := a.tls.Client()
	for _, tt := range []struct {
		method, path string
		wantStatus   int
		wantCode     float64
	}{
		{"GET", "/auth/v2/nothing-here", 404, 40401},
		{"GET", "/auth/v2/preauth", 405, 40501},
	} {
		req, _ := http.NewRequest(tt.method, a.p.URL+tt.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.wantStatus || body["stat"] != "FAIL" || body["code"] != tt.wantCode {
			t.Errorf("%s %s: %d %v (%v)", tt.method, tt.path, resp.StatusCode, body, err)
		}
	}
	resp, err := client.Get(a.p.URL + "/rest/v1/nothing.bson")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, ok := bson.Raw(raw).Lookup("code").Int32OK()
	if resp.StatusCode != 404 || !ok || code != 40401 {
		t.Errorf("unknown REST v1 path: %d %q", resp.StatusCode, raw)
	}
	// Pages keep their HTML error page.
	resp, err = client.Get(a.p.URL + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestAuthAPIEnrollRefusesNULAndInvalidUTF8Usernames(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	for _, name := range []string{"car\x00ol", "caf\xe9", "\xff"} {
		en, err := a.client.Enroll(authapi.EnrollUsername(name))
		if err != nil || en.Stat != "FAIL" || en.Code == nil || *en.Code != 40002 {
			t.Errorf("Enroll(%q) = %+v, %v", name, en, err)
		}
	}
	if n, _ := a.p.Store.CountUsers(context.Background()); n != 0 {
		t.Fatalf("refused usernames created %d users", n)
	}
}
