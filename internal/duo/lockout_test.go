package duo_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// flood is how many wrong passcodes a guesser sends at once.
const flood = 300

// floodAddress is the ipaddr of guess i: a new one each time, so that the
// per-address throttle does not stand between the guesses and the lockout.
func floodAddress(i int) string {
	return "10.77." + strconv.Itoa(i/250) + "." + strconv.Itoa(1+i%250)
}

// resendRefused sends again, one at a time, the guesses that the login
// deadline refused unchecked (503) when the flood overloaded the machine,
// as a guesser would: the limit must hold for them too.
func resendRefused(statuses []int, send func(i int) int) {
	for i, s := range statuses {
		if s == http.StatusServiceUnavailable {
			statuses[i] = send(i)
		}
	}
}

// checkFloodStatuses accepts an answer (200), the throttle (429), or the
// login deadline (503: a guess that waited behind the others' writes for
// longer than a login may wait is refused unchecked).
func checkFloodStatuses(t *testing.T, statuses []int) {
	t.Helper()
	for _, s := range statuses {
		if s != http.StatusOK && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Fatalf("a guess answered %d", s)
		}
	}
}

func TestAuthAPIConcurrentWrongPasscodesCheckAtMostTheLimit(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	secret := enrollPhone(t, a.p, "mallory")
	wrong := wrongCode(t, secret, a.p.Clock.Now())
	statuses := make([]int, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			// duo_api_golang sleeps and retries on 429 for a minute, so the
			// flood is signed by hand, as a script would send it.
			statuses[i], _, _ = rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
				url.Values{"username": {"mallory"}, "factor": {"passcode"}, "passcode": {wrong}, "ipaddr": {floodAddress(i)}}.Encode(), time.Now())
		})
	}
	wg.Wait()
	resendRefused(statuses, func(i int) int {
		s, _, _ := rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
			url.Values{"username": {"mallory"}, "factor": {"passcode"}, "passcode": {wrong}, "ipaddr": {floodAddress(i)}}.Encode(), time.Now())
		return s
	})
	checkFloodStatuses(t, statuses)
	checked := testkit.WantLockoutHeld(t, a.p, "mallory", audit.AuthPasscodeFailed, flood)
	t.Logf("Auth API v2: %d of %d concurrent wrong passcodes checked", checked, flood)

	// Once the throttle has refilled, the right code is refused too.
	a.p.Clock.Advance(time.Minute)
	res, err := a.client.Auth("passcode", authapi.AuthUsername("mallory"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, a.p.Clock.Now())))
	if err != nil || res.Response.Result != "deny" || !strings.Contains(res.Response.Status_Msg, "locked") {
		t.Fatalf("Auth(right code after the flood) = %+v, %v", res, err)
	}
}

func TestRESTv1ConcurrentWrongPasscodesCheckAtMostTheLimit(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	secret := enrollPhone(t, p, unixUser)
	wrong := wrongCode(t, secret, p.Clock.Now())
	statuses := make([]int, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			statuses[i], _ = restCall(t, files.Client(), p.URL, app.ClientID, app.ClientSecret, "/rest/v1/auth.bson",
				url.Values{"user": {unixUser}, "factor": {"auto"}, "auto": {wrong}, "ipaddr": {floodAddress(i)}})
		})
	}
	wg.Wait()
	resendRefused(statuses, func(i int) int {
		s, _ := restCall(t, files.Client(), p.URL, app.ClientID, app.ClientSecret, "/rest/v1/auth.bson",
			url.Values{"user": {unixUser}, "factor": {"auto"}, "auto": {wrong}, "ipaddr": {floodAddress(i)}})
		return s
	})
	checkFloodStatuses(t, statuses)
	checked := testkit.WantLockoutHeld(t, p, unixUser, audit.AuthPasscodeFailed, flood)
	t.Logf("REST v1: %d of %d concurrent wrong passcodes checked", checked, flood)

	// Once the throttle has refilled, the right code is refused, and
	// Debian's login_duo says why without asking for one.
	p.Clock.Advance(time.Minute)
	status, doc := restCall(t, files.Client(), p.URL, app.ClientID, app.ClientSecret, "/rest/v1/auth.bson",
		url.Values{"user": {unixUser}, "factor": {"auto"}, "auto": {testkit.TOTPCode(t, secret, p.Clock.Now())}})
	resp := doc.Lookup("response").Document()
	if status != http.StatusOK || resp.Lookup("result").StringValue() != "deny" || !strings.Contains(resp.Lookup("status").StringValue(), "locked") {
		t.Fatalf("auth.bson with the right code after the flood: %d %s", status, doc)
	}
	exit, out := newLoginDuo(t, app, strings.TrimPrefix(p.URL, "https://"), files.CAFile, "secure").Start(t).Wait()
	if exit == 0 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, "locked") {
		t.Fatalf("login_duo after the flood: exit %d, terminal %q", exit, out)
	}
}

func TestAuthAPIThrottlesPasscodesPerUsernameWhateverTheAddress(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	try := func(username, ip string) (int, http.Header) {
		status, header, _ := rawCall(t, a.tls.Client(), a.p.URL, a.app.ClientID, a.app.ClientSecret, "POST", "/auth/v2/auth", "",
			url.Values{"username": {username}, "factor": {"passcode"}, "passcode": {"123456"}, "ipaddr": {ip}}.Encode(), time.Now())
		return status, header
	}
	var last int
	var header http.Header
	for i := range 21 {
		last, header = try("trudy", floodAddress(i))
	}
	if last != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Fatalf("21st passcode for one username from 21 addresses: %d, Retry-After %q", last, header.Get("Retry-After"))
	}
	// The same username of another application, and another username of
	// this one, are not held up.
	if status, _ := try("someone", floodAddress(500)); status != http.StatusOK {
		t.Errorf("a passcode for another username answered %d", status)
	}
	other := newApp(t, a.p, store.AppAuthAPI, "")
	status, _, _ := rawCall(t, a.tls.Client(), a.p.URL, other.ClientID, other.ClientSecret, "POST", "/auth/v2/auth", "",
		url.Values{"username": {"trudy"}, "factor": {"passcode"}, "passcode": {"123456"}, "ipaddr": {floodAddress(501)}}.Encode(), time.Now())
	if status != http.StatusOK {
		t.Errorf("the same username through another application answered %d", status)
	}
}
