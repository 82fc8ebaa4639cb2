package testkit

import (
	"context"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
)

// EnrollAuthenticator gives username (created when missing, as an inline
// enrollment does) an authenticator app on a mobile phone through the
// enrollment service, as the enrollment pages do, and returns the app's
// TOTP secret. The set-up is confirmed with the code the app shows at
// confirmAt: the portal's fake time for a portal alone, or a step before
// the wall clock for instances that run on it, so that the first login's
// code is not a replay of the confirming one.
func (p *Portal) EnrollAuthenticator(t testing.TB, username string, confirmAt time.Time) string {
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
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, TOTPCode(t, setup.Secret, confirmAt)); err != nil {
		t.Fatal(err)
	}
	return setup.Secret
}
