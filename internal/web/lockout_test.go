package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// flood is how many wrong codes a guesser sends at once.
const flood = 300

// wrongCodes is n copies of a form with a six-digit code that an app
// holding secret does not show one step either side of now.
func wrongCodes(t *testing.T, secret string, now time.Time, n int) []url.Values {
	t.Helper()
	right := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		right[testkit.TOTPCode(t, secret, now.Add(d))] = true
	}
	wrong := "000000"
	if right[wrong] {
		wrong = "111111"
	}
	if right[wrong] {
		wrong = "222222"
	}
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = url.Values{"code": {wrong}}
	}
	return forms
}

// wantNoServerErrors fails the test when a guess of the flood got no
// answer or a server error.
func wantNoServerErrors(t *testing.T, answers []testkit.Response) {
	t.Helper()
	for _, r := range answers {
		if r.Response == nil || r.StatusCode >= 500 {
			t.Fatalf("a guess failed: %+v", r.Response)
		}
	}
}

// activationSecret finds the secret an activation page offers.
var activationSecret = regexp.MustCompile(`secret=([A-Z2-7]+)`)

func TestPromptConcurrentWrongPasscodesCheckAtMostTheLimit(t *testing.T) {
	h := newPromptHTTP(t)
	secret := h.enrolledUser(t, "mallory")
	c := testkit.NewClient(t, h.p)
	prompt := h.start(t, c, "mallory")
	wantRedirect(t, c.Get(prompt), prompt+"/passcode")
	c.Get(prompt + "/passcode")
	wantNoServerErrors(t, c.PostAll(prompt+"/passcode", wrongCodes(t, secret, h.p.Clock.Now(), flood)))
	checked := testkit.WantLockoutHeld(t, h.p, "mallory", audit.PromptPasscodeFailed, flood)
	t.Logf("Universal Prompt: %d of %d concurrent wrong passcodes checked", checked, flood)

	// The right code afterwards signs nobody in: not in this sign-in, and a
	// new one is denied before it asks for a code.
	if r := c.Post(prompt+"/passcode", url.Values{"code": {testkit.TOTPCode(t, secret, h.p.Clock.Now())}}); r.Location() == prompt+"/return" {
		t.Fatal("the right code was accepted after the lockout")
	}
	again := h.start(t, c, "mallory")
	wantRedirect(t, c.Get(again), again+"/done")
	wantStatus(t, c.Get(again+"/done"), http.StatusForbidden, "locked")
	// The sign-in ended once: the guesses refused after it did not end it
	// again, each with an audit record of its own. When a guess that found
	// the user already locked ended the flooded sign-in, its denial and the
	// new one's are the same decision and share one record with a count
	// (audit.RecordLogin): count what the records count.
	entries, _ := h.p.Store.AuditForTarget(context.Background(), audit.TargetUser, "mallory", 10*flood)
	ended := map[string]int{}
	for _, e := range entries {
		if e.Action == audit.PromptLoginAllowed || e.Action == audit.PromptLoginDenied {
			ended[e.Action] += max(e.Count, 1)
		}
	}
	if ended[audit.PromptLoginAllowed] != 0 || ended[audit.PromptLoginDenied] != 2 {
		t.Errorf("sign-ins ended %v; want the flooded one and the new one denied once each", ended)
	}
}

func TestEnrollConcurrentWrongCodesCheckAtMostTheLimit(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	page := startMobile(t, c, link)
	secret := strings.ReplaceAll(setupKey.FindStringSubmatch(page.Body)[1], " ", "")
	wantNoServerErrors(t, c.PostAll(link+"/app", wrongCodes(t, secret, p.Clock.Now(), flood)))
	checked := testkit.WantLockoutHeld(t, p, "alice", audit.EnrollmentCodeFailed, flood)
	t.Logf("enrollment: %d of %d concurrent wrong codes checked", checked, flood)

	wantStatus(t, c.Post(link+"/app", url.Values{"code": {codeAt(t, page.Body, p.Clock.Now())}}), http.StatusForbidden, "locked")
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	if f, _ := p.Enroll.FactorsOf(context.Background(), u.ID); f.Any() {
		t.Fatal("a locked-out user got a device")
	}
}

func TestActivationConcurrentWrongCodesCheckAtMostTheLimit(t *testing.T) {
	p := testkit.Serve(t)
	ctx := context.Background()
	u, err := p.Users.Create(ctx, users.NewUser{Username: "alice"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewClient(t, p)
	tablet, path, secret := openTabletActivation(t, p, c, u)
	wantNoServerErrors(t, c.PostAll(path, wrongCodes(t, secret, p.Clock.Now(), flood)))
	checked := testkit.WantLockoutHeld(t, p, "alice", audit.ActivationFailed, flood)
	t.Logf("activation link: %d of %d concurrent wrong codes checked", checked, flood)

	wantStatus(t, c.Post(path, url.Values{"code": {testkit.TOTPCode(t, secret, p.Clock.Now())}}), http.StatusForbidden, "locked")
	if got, _ := p.Store.PhoneByID(ctx, tablet.ID); got.Activated {
		t.Fatal("a locked-out user's tablet was activated")
	}
}

// openTabletActivation adds a tablet to u as an admin does, opens its
// activation link in c, and returns the tablet, the link's path and the
// secret the page shows.
func openTabletActivation(t *testing.T, p *testkit.Portal, c *testkit.Client, u store.User) (store.Phone, string, string) {
	t.Helper()
	ctx := context.Background()
	tablet := testkit.Got(p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: store.PhoneTablet, Platform: store.PlatformIOS}, audit.CLI())).Must(t)
	var issued enroll.IssuedActivation
	testkit.NoErr(t, p.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		issued, err = p.Enroll.IssueActivationTx(ctx, q, u, tablet, 0, "", audit.CLI())
		return err
	}))
	path := strings.TrimPrefix(issued.URL, p.URL)
	page := c.Get(path)
	sec := activationSecret.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || sec == nil {
		t.Fatalf("activation page: %d\n%s", page.StatusCode, page.Body)
	}
	return tablet, path, sec[1]
}
