package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestDisabledUserGetsOnePageOnEnrollmentAndActivationLinks: a user
// disabled after their links were sent is stopped by the status gate on
// both, with the same page, and no device is added.
func TestDisabledUserGetsOnePageOnEnrollmentAndActivationLinks(t *testing.T) {
	p := testkit.Serve(t)
	ctx := context.Background()
	link := newLink(t, p)
	alice := testkit.Got(p.Store.UserByUsername(ctx, "alice")).Must(t)
	tablet := testkit.Got(p.Enroll.AddPhone(ctx, alice, enroll.NewPhone{Type: store.PhoneTablet, Platform: store.PlatformIOS}, audit.CLI())).Must(t)
	var issued enroll.IssuedActivation
	testkit.NoErr(t, p.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		issued, err = p.Enroll.IssueActivationTx(ctx, q, alice, tablet, 0, "", audit.CLI())
		return err
	}))
	activation := strings.TrimPrefix(issued.URL, p.URL)
	c := testkit.NewClient(t, p)
	page := c.Get(activation)
	sec := activationSecret.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || sec == nil {
		t.Fatalf("activation page: %d\n%s", page.StatusCode, page.Body)
	}

	testkit.NoErr(t, p.Store.SetUserStatus(ctx, alice.ID, store.StatusDisabled, true, p.Clock.Now()))
	stopped := []string{"Your account is disabled", "Your account cannot set up devices right now."}
	wantStatus(t, c.Post(activation, url.Values{"code": {testkit.TOTPCode(t, sec[1], p.Clock.Now())}}), http.StatusForbidden, stopped...)
	wantStatus(t, testkit.NewClient(t, p).Get(link), http.StatusForbidden, stopped...)
	if got := testkit.Got(p.Store.PhoneByID(ctx, tablet.ID)).Must(t); got.Activated {
		t.Fatal("a disabled user's tablet was activated")
	}
}
