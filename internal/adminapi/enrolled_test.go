package adminapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestAdminAPIIsEnrolledFollowsTheOrganisationMethods: is_enrolled is the
// one definition of enrolled (policy.Factors) under the global policy's
// methods, as the admin section shows it, not "holds any factor": a user
// whose only factor is a hardware token is not enrolled while the
// organisation accepts authenticator apps only.
func TestAdminAPIIsEnrolledFollowsTheOrganisationMethods(t *testing.T) {
	a := newAdminPortal(t)
	ctx := context.Background()
	created, err := a.client.CreateUser(url.Values{"username": {"tokenholder"}})
	if err != nil || created.Stat != "OK" {
		t.Fatalf("CreateUser = %+v, %v", created, err)
	}
	lines, err := a.p.Factors.ParseTokens(ctx, strings.NewReader("T100,"+rfc4226Secret+",hotp-6\n"))
	testkit.NoErr(t, err)
	_, err = a.p.Factors.ImportTokens(ctx, lines, a.p.Enroll, audit.CLI())
	testkit.NoErr(t, err)
	testkit.NoErr(t, a.p.Factors.AssignToken(ctx, "T100", "tokenholder", audit.CLI()))

	global := testkit.Got(a.p.Store.GlobalPolicy(ctx)).Must(t)
	for _, c := range []struct {
		methods []string
		want    bool
	}{
		{policy.DefaultAuthMethods, true},
		{[]string{store.MethodAuthenticatorApp}, false},
		{[]string{store.MethodHardwareToken}, true},
	} {
		global.AuthMethods = c.methods
		testkit.NoErr(t, a.p.Store.UpdatePolicy(ctx, global))
		one, err := a.client.GetUser(created.Response.UserID)
		if err != nil || one.Stat != "OK" || one.Response.IsEnrolled != c.want || len(one.Response.Tokens) != 1 {
			t.Errorf("methods %v: GetUser = %+v, %v; want is_enrolled %v", c.methods, one, err, c.want)
		}
		list, err := a.client.GetUsers()
		if err != nil || len(list.Response) != 1 || list.Response[0].IsEnrolled != c.want {
			t.Errorf("methods %v: GetUsers = %+v, %v; want is_enrolled %v", c.methods, list, err, c.want)
		}
		enrolled := testkit.Got(a.p.Policy.Enrolled(ctx, mustUserID(t, a, "tokenholder"))).Must(t)
		if enrolled != c.want {
			t.Errorf("methods %v: policy.Service.Enrolled = %v, the Admin API must agree", c.methods, enrolled)
		}
	}
}

// rfc4226Secret is the test key of RFC 4226, appendix D, in hex.
const rfc4226Secret = "3132333435363738393031323334353637383930"
