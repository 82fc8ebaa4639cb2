package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

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
	c := testkit.NewClient(t, p)
	tablet, activation, secret := openTabletActivation(t, p, c, alice)

	testkit.NoErr(t, p.Store.SetUserStatus(ctx, alice.ID, store.StatusDisabled, true, p.Clock.Now()))
	stopped := []string{"Your account is disabled", "Your account cannot set up devices right now."}
	wantStatus(t, c.Post(activation, url.Values{"code": {testkit.TOTPCode(t, secret, p.Clock.Now())}}), http.StatusForbidden, stopped...)
	wantStatus(t, testkit.NewClient(t, p).Get(link), http.StatusForbidden, stopped...)
	if got := testkit.Got(p.Store.PhoneByID(ctx, tablet.ID)).Must(t); got.Activated {
		t.Fatal("a disabled user's tablet was activated")
	}
}
