package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// TestEnrolledAgreesEverywhere holds the one definition of "enrolled"
// (policy.Factors) to every place that shows or acts on it: a login's
// decision, the user's admin page, the users list, the dashboard's figure
// (SQL), and the guard of inline enrollment, which refuses anyone holding
// any factor, accepted by the policy or not.
func TestEnrolledAgreesEverywhere(t *testing.T) {
	h := newPromptHTTP(t)
	p := h.p
	ctx := context.Background()
	now := p.Clock.Now()
	admins, _ := p.SignInAs(t, admin.RoleOwner)

	add := func(name string) store.User {
		t.Helper()
		u, err := p.Users.Create(ctx, users.NewUser{Username: name}, audit.CLI())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	phone := func(u store.User, activated bool, number string) {
		t.Helper()
		ph := store.Phone{Key: secret.NewID("DP", 20), Type: store.PhoneMobile, Number: number, Platform: store.PlatformAndroid, CreatedAt: now}
		if activated {
			ph.TOTPSecret, ph.Activated, ph.ActivatedAt = []byte("sealed"), true, &now
		}
		testkit.NoErr(t, p.Store.CreatePhone(ctx, &ph))
		testkit.NoErr(t, p.Store.AttachPhone(ctx, u.ID, ph.ID))
	}
	type holder struct {
		user  store.User
		holds []string // the kinds of factor held; none for none
	}
	none, unactivated, app, key, token := add("nobody"), add("unactivated"), add("appuser"), add("keyuser"), add("tokenuser")
	sms := add("smsuser")
	phone(unactivated, false, "+14155550100")
	phone(app, true, "")
	// An activated mobile with a number makes codes in its app and takes
	// SMS passcodes: it counts under either method.
	phone(sms, true, "+14155550101")
	testkit.NoErr(t, p.Store.CreateSecurityKey(ctx, &store.SecurityKey{Key: secret.NewID("DW", 20), UserID: key.ID,
		CredentialID: []byte("credential"), PublicKey: []byte("public key"), AAGUID: make([]byte, 16), CreatedAt: now}))
	_, err := p.Factors.CreateToken(ctx, factors.NewToken{Type: store.TokenHOTP6, Serial: "123456",
		SecretHex: "3132333435363738393031323334353637383930", Counter: 1}, p.Enroll, audit.CLI())
	testkit.NoErr(t, err)
	testkit.NoErr(t, p.Factors.AssignToken(ctx, "123456", token.Username, audit.CLI()))
	holders := []holder{{none, nil}, {unactivated, nil}, {app, []string{store.MethodAuthenticatorApp}},
		{key, []string{store.MethodSecurityKey}}, {token, []string{store.MethodHardwareToken}},
		{sms, []string{store.MethodAuthenticatorApp, store.MethodSMS}}}

	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	for _, methods := range [][]string{
		policy.DefaultAuthMethods,
		{store.MethodAuthenticatorApp},
		{store.MethodSMS},
		{store.MethodSecurityKey, store.MethodHardwareToken},
		{},
	} {
		t.Run(strings.Join(methods, "+"), func(t *testing.T) {
			global.AuthMethods = methods
			testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))
			enrolledCount := 0
			for _, hd := range holders {
				want := false
				for _, m := range hd.holds {
					want = want || policy.Counts(methods, m)
				}
				if want {
					enrolledCount++
				}
				f := testkit.Got(p.Enroll.FactorsOf(ctx, hd.user.ID)).Must(t)
				if got := f.EnrolledUnder(methods); got != want {
					t.Errorf("%s: Factors.EnrolledUnder = %v, want %v", hd.user.Username, got, want)
				}
				if got := f.Any(); got != (len(hd.holds) > 0) {
					t.Errorf("%s: Factors.Any = %v", hd.user.Username, got)
				}
				if got := testkit.Got(p.Policy.Enrolled(ctx, hd.user.ID)).Must(t); got != want {
					t.Errorf("%s: policy.Service.Enrolled = %v, want %v", hd.user.Username, got, want)
				}
				d, _, err := p.Policy.Decide(ctx, store.Application{Name: "Payroll"}, hd.user.Username, nil)
				testkit.NoErr(t, err)
				if got := d.Result == policy.ResultAuth; got != want {
					t.Errorf("%s: login decision %s, want auth = %v", hd.user.Username, d.Result, want)
				}
				page := admins.Get("/admin/users/" + hd.user.Key)
				wantShown := map[bool]string{true: "<dt>Enrolled</dt><dd>Yes</dd>", false: "<dt>Enrolled</dt><dd>Not yet</dd>"}[want]
				if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, wantShown) {
					t.Errorf("%s: the admin page lacks %q (%d)", hd.user.Username, wantShown, page.StatusCode)
				}
				list := admins.Get("/admin/users?q=" + hd.user.Username)
				wantRow := map[bool]string{true: "<td>Yes</td>", false: "<td>Not yet</td>"}[want]
				if list.StatusCode != http.StatusOK || !strings.Contains(list.Body, wantRow) {
					t.Errorf("%s: the users list lacks %q (%d)", hd.user.Username, wantRow, list.StatusCode)
				}
			}
			dash := admins.Get("/admin")
			if wantFigure := fmt.Sprintf("<dt>Enrolled</dt><dd>%d</dd>", enrolledCount); !strings.Contains(dash.Body, wantFigure) {
				t.Errorf("the dashboard lacks %q\n%s", wantFigure, dash.Body)
			}
		})
	}

	// Inline enrollment adds no device to an account that holds any factor,
	// even one the application does not accept. The policy now accepts no
	// method, so every login is sent to enroll; those holding a factor are
	// refused rather than offered a new device.
	for _, hd := range holders {
		c := testkit.NewClient(t, p)
		prompt := h.start(t, c, hd.user.Username)
		wantRedirect(t, c.Get(prompt), prompt+"/enroll")
		r := c.Get(prompt + "/enroll")
		if len(hd.holds) == 0 {
			wantStatus(t, r, http.StatusOK, "Set up two-factor sign-in")
			continue
		}
		wantRedirect(t, r, prompt+"/done")
		wantStatus(t, c.Get(prompt+"/done"), http.StatusForbidden, "None of your two-factor methods is allowed")
	}
}
