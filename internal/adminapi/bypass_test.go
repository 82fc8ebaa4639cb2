package adminapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"enrollportal/internal/audit"
)

func TestAdminAPIBypassCodesAreIssuedReplacedAndRefuseChosenCodes(t *testing.T) {
	a := newAdminPortal(t)
	user, err := a.client.CreateUser(url.Values{"username": {"kate"}})
	if err != nil || user.Stat != "OK" {
		t.Fatalf("CreateUser = %+v, %v", user, err)
	}
	path := "/admin/v1/users/" + user.Response.UserID + "/bypass_codes"
	code, e := jsonCall(t, a.base, http.MethodPost, path, map[string]any{"count": 3, "reuse_count": 2, "valid_secs": 3600})
	var codes []string
	into(t, e, &codes)
	if code != 200 || len(codes) != 3 || len(codes[0]) < 8 {
		t.Fatalf("bypass_codes = %d %v", code, codes)
	}
	ctx := context.Background()
	all, err := a.p.Store.BypassCodesByUser(ctx, mustUserID(t, a, "kate"))
	if err != nil || len(all) != 3 || all[0].UsesLeft != 2 || all[0].ExpiresAt == nil {
		t.Fatalf("stored codes = %+v, %v", all, err)
	}
	// By default new codes replace the old; preserve_existing keeps them.
	form(t, a.base, http.MethodPost, path, url.Values{"count": {"2"}})
	if all, _ := a.p.Store.BypassCodesByUser(ctx, mustUserID(t, a, "kate")); len(all) != 2 {
		t.Fatalf("after a replacing issue: %d codes", len(all))
	}
	form(t, a.base, http.MethodPost, path, url.Values{"count": {"1"}, "preserve_existing": {"true"}})
	if all, _ := a.p.Store.BypassCodesByUser(ctx, mustUserID(t, a, "kate")); len(all) != 3 {
		t.Fatalf("after a preserving issue: %d codes", len(all))
	}
	for _, bad := range []url.Values{{"codes": {"12345678"}}, {"count": {"11"}}, {"reuse_count": {"0"}}} {
		if code, e := form(t, a.base, http.MethodPost, path, bad); code != 400 || e.Code != 40002 {
			t.Errorf("%v = %d %+v", bad, code, e)
		}
	}
	if code, _ := form(t, a.base, http.MethodPost, "/admin/v1/users/DUNOSUCHUSER0000000/bypass_codes", nil); code != 404 {
		t.Errorf("unknown user = %d", code)
	}
	entries, _ := a.p.Store.AuditForTarget(ctx, audit.TargetUser, "kate", 20)
	n := 0
	for _, en := range entries {
		if en.Action == audit.BypassCodesCreated && en.ActorType == audit.ActorApplication {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d bypass code audit records by the application", n)
	}
}

func mustUserID(t *testing.T, a *adminPortal, username string) int64 {
	t.Helper()
	u, err := a.p.Store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
