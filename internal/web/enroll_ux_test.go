package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/config"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// toPlatform walks a client to the platform step of a mobile phone.
func toPlatform(t *testing.T, c *testkit.Client, link, number string) {
	t.Helper()
	wantStatus(t, c.Get(link), http.StatusOK)
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), link+"/phone")
	wantRedirect(t, c.Post(link+"/phone", url.Values{"country": {"US"}, "number": {number}}), link+"/platform")
}

func TestEnrollBackAndContinueKeepsTheSecret(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	first := startMobile(t, c, link)
	key := setupKey.FindStringSubmatch(first.Body)[1]

	// Back to the platform step, Continue again: the same secret.
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformIOS}}), link+"/app")
	if again := setupKey.FindStringSubmatch(c.Get(link + "/app").Body)[1]; again != key {
		t.Fatalf("Continue made a new secret: %s, then %s", key, again)
	}
	// Back to the number, another number and platform: still the same
	// secret, now for the new number.
	wantRedirect(t, c.Post(link+"/phone", url.Values{"country": {"US"}, "number": {"201 555 0199"}}), link+"/platform")
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformAndroid}}), link+"/app")
	page := c.Get(link + "/app")
	if again := setupKey.FindStringSubmatch(page.Body)[1]; again != key {
		t.Fatalf("a changed number made a new secret: %s, then %s", key, again)
	}
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	f, _ := p.Enroll.FactorsOf(context.Background(), u.ID)
	if len(f.Phones) != 1 || f.Phones[0].Number != "+12015550199" || f.Phones[0].Platform != store.PlatformAndroid {
		t.Fatalf("stored %+v", f.Phones)
	}
}

func TestEnrollCodeFromAnOlderSetupIsToldApartAndNotCounted(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	old := startMobile(t, c, link)

	// A second browser of the same person starts over: a new secret.
	other := testkit.NewClient(t, p)
	toPlatform(t, other, link, "201 555 0123")
	wantRedirect(t, other.Post(link+"/platform", url.Values{"platform": {store.PlatformIOS}}), link+"/app")
	current := other.Get(link + "/app")
	if setupKey.FindStringSubmatch(current.Body)[1] == setupKey.FindStringSubmatch(old.Body)[1] {
		t.Fatal("two browsers share a secret")
	}

	r := other.Post(link+"/app", url.Values{"code": {codeAt(t, old.Body, p.Clock.Now())}})
	wantStatus(t, r, http.StatusUnprocessableEntity, "You scanned an older code")
	if strings.Contains(r.Body, "tries left") {
		t.Fatalf("an older code was counted as a wrong try:\n%s", r.Body)
	}
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	if u.FailedAttempts != 0 {
		t.Fatalf("failures %d after a code from an older set-up", u.FailedAttempts)
	}
	// A real wrong code still counts.
	wantStatus(t, other.Post(link+"/app", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity, "9 tries left")
	wantRedirect(t, other.Post(link+"/app", url.Values{"code": {codeAt(t, current.Body, p.Clock.Now())}}), link+"/done")
}

func TestEnrollLastTryIsSingular(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	startMobile(t, c, link)
	var r testkit.Response
	for range 9 {
		r = c.Post(link+"/app", url.Values{"code": {"000000"}})
	}
	wantStatus(t, r, http.StatusUnprocessableEntity, "You have 1 try left")
}

func TestEnrollAfterDoneSaysTheDeviceIsSetUp(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	// Back to the app step, or its form sent again: the device is set up.
	wantRedirect(t, c.Get(link+"/app"), link+"/done")
	wantRedirect(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), link+"/done")
	wantStatus(t, c.Get(link+"/done"), http.StatusOK, "You are set up", "Add another device")
}

func TestEnrollExpiredSetupOffersAButton(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	startMobile(t, c, link)
	p.Clock.Advance(enroll.ChallengeTTL)
	r := c.Get(link + "/app")
	wantStatus(t, r, http.StatusGone, "This set-up has expired", `href="`+link+`/choose"`)
	if strings.Contains(r.Body, p.URL) {
		t.Fatalf("the page writes out an address:\n%s", r.Body)
	}
}

var numberExample = regexp.MustCompile(`id="number-example">([^<]+)<`)

func TestEnrollPhoneExampleValidatesAndEmptyIsAskedFor(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get(link), http.StatusOK)
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), link+"/phone")
	wantStatus(t, c.Post(link+"/phone", url.Values{"country": {"US"}, "number": {"  "}}), http.StatusBadRequest, "Enter your mobile number.")

	for _, country := range []string{"US", "GB", "DE", "FR", "IN"} {
		// A refused number shows the page again for the chosen country,
		// with that country's example, which must itself be accepted.
		r := c.Post(link+"/phone", url.Values{"country": {country}, "number": {"12"}})
		m := numberExample.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("%s: no example on the page:\n%s", country, r.Body)
		}
		wantRedirect(t, c.Post(link+"/phone", url.Values{"country": {country}, "number": {m[1]}}), link+"/platform")
	}
	// The first visit's example, for the default country, is accepted too.
	m := numberExample.FindStringSubmatch(c.Get(link + "/phone").Body)
	if m == nil || strings.Contains(m[1], "555 555 0123") {
		t.Fatalf("example %v", m)
	}
}

func TestEnrollPlatformIsPreselectedFromTheUserAgent(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	toPlatform(t, c, link, "201 555 0123")
	for agent, want := range map[string]string{
		"Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36":                       store.PlatformAndroid,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1": store.PlatformIOS,
	} {
		req, _ := http.NewRequest(http.MethodGet, p.URL+link+"/platform", nil)
		req.Header.Set("User-Agent", agent)
		r := c.Do(req)
		wantStatus(t, r, http.StatusOK, `value="`+want+`" checked`)
	}
}

func TestEnrollAppListNamesTheStoreAsPeopleSayIt(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	toPlatform(t, c, link, "201 555 0123")
	wantRedirect(t, c.Post(link+"/platform", url.Values{"platform": {store.PlatformAndroid}}), link+"/app")
	r := c.Get(link + "/app")
	wantStatus(t, r, http.StatusOK, "from Google Play")
	if strings.Contains(r.Body, "the Google Play") {
		t.Fatal(`the page says "the Google Play"`)
	}
}

func TestHomeWithTheDefaultOrganisationNameNamesNoSoftware(t *testing.T) {
	p := testkit.Serve(t, func(s *config.Settings) { s.OrgName = "" })
	r := testkit.NewClient(t, p).Get("/")
	wantStatus(t, r, http.StatusOK, "people in your organisation")
	if strings.Contains(r.Body, "people at Enrollment Portal") {
		t.Fatal("the home page names the software as the organisation")
	}
}

func TestFaviconIsServed(t *testing.T) {
	p := testkit.Serve(t)
	r := testkit.NewClient(t, p).Get("/favicon.ico")
	wantStatus(t, r, http.StatusOK, "<svg")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Fatalf("content type %q", ct)
	}
	wantStatus(t, testkit.NewClient(t, p).Get("/"), http.StatusOK, `rel="icon"`)
}

func TestEnrollLandingWritesNoSessionCookieAndItsFormStillWorks(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	r := c.Get(link)
	wantStatus(t, r, http.StatusOK, `name="csrf_token"`)
	var names []string
	for _, ck := range r.Cookies() {
		names = append(names, ck.Name)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s is not HttpOnly and SameSite=Lax", ck.Name)
		}
	}
	// Opening the link only needs a CSRF token for its form: no session
	// is encrypted and sent until there is something to remember.
	if strings.Join(names, ",") != "portal_csrf" {
		t.Fatalf("landing page sets cookies %v, want only portal_csrf", names)
	}
	wantRedirect(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), link+"/phone")

	// A form token that is not the cookie's, or a cookie whose signature
	// does not verify, is refused.
	other := testkit.NewClient(t, p)
	wantStatus(t, other.Get(link), http.StatusOK)
	wantStatus(t, other.Post(link+"/choose", url.Values{"method": {"mobile"}, "csrf_token": {c.CSRF()}}), http.StatusForbidden)
	forged := testkit.NewClient(t, p)
	req, _ := http.NewRequest(http.MethodPost, p.URL+link+"/choose", strings.NewReader(url.Values{"method": {"mobile"}, "csrf_token": {"abc.def"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "portal_csrf", Value: "abc.def"})
	wantStatus(t, forged.Do(req), http.StatusForbidden)
}
