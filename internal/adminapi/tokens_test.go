package adminapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/duosecurity/duo_api_golang/admin"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

// token is Duo's token object as a client decodes it.
type token struct {
	TokenID  string `json:"token_id"`
	Type     string `json:"type"`
	Serial   string `json:"serial"`
	TOTPStep *int   `json:"totp_step"`
	Users    []struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
	} `json:"users"`
}

// TestAdminAPIHardwareTokensCreateAssignResyncUnassignDelete drives the
// token endpoints with duo_api_golang where it has the call and v5 JSON
// bodies (typed numbers) otherwise: tokens are added and refused by field,
// listed and filtered, given to a user (and shown on the user), resynced
// from three codes, taken back and deleted, each change audited with the
// application as actor.
func TestAdminAPIHardwareTokensCreateAssignResyncUnassignDelete(t *testing.T) {
	a := newAdminPortal(t)
	ctx := context.Background()
	create := func(params map[string]any) (int, envelope) {
		t.Helper()
		return jsonCall(t, a.base, http.MethodPost, "/admin/v1/tokens", params)
	}
	code, e := create(map[string]any{"type": "h6", "serial": "H-100", "secret": rfc4226Secret, "counter": 0})
	var hotp token
	into(t, e, &hotp)
	if code != 200 || !strings.HasPrefix(hotp.TokenID, "DH") || hotp.Type != "h6" || hotp.Serial != "H-100" ||
		hotp.TOTPStep != nil || hotp.Users == nil || len(hotp.Users) != 0 {
		t.Fatalf("created h6 = %d %s", code, e.Response)
	}
	_, e = create(map[string]any{"type": "t8", "serial": "T-200", "secret": rfc4226Secret, "totp_step": 60})
	var totp token
	into(t, e, &totp)
	if totp.TOTPStep == nil || *totp.TOTPStep != 60 {
		t.Fatalf("created t8 = %s", e.Response)
	}
	for _, bad := range []struct {
		params map[string]any
		detail string
	}{
		{map[string]any{"type": "yk", "serial": "Y-1", "secret": rfc4226Secret}, "type must be"},
		{map[string]any{"type": "h6", "serial": "H-100", "secret": rfc4226Secret}, "exists already"},
		{map[string]any{"type": "h8", "serial": "H-101", "secret": "not hex"}, "hexadecimal"},
		{map[string]any{"type": "t6", "serial": "T-201", "secret": rfc4226Secret, "counter": 3}, "counter is for h6 and h8"},
		{map[string]any{"type": "t6", "serial": "T-201", "secret": rfc4226Secret, "totp_step": 45}, "totp_step must be"},
		{map[string]any{"type": "h6", "serial": "H-102", "secret": rfc4226Secret, "counter": -1}, "counter must be"},
		{map[string]any{"type": "h6", "secret": rfc4226Secret}, `"serial"`},
	} {
		if code, e := create(bad.params); code != 400 || e.Code != 40002 || !strings.Contains(e.MessageDetail, bad.detail) {
			t.Errorf("%v = %d %d %q, want 40002 with %q", bad.params, code, e.Code, e.MessageDetail, bad.detail)
		}
	}

	all, err := a.client.GetTokens()
	if err != nil || all.Stat != "OK" || len(all.Response) != 2 || all.Metadata.TotalObjects != "2" {
		t.Fatalf("GetTokens = %+v, %v (refused tokens must add nothing)", all, err)
	}
	one, err := a.client.GetTokens(admin.GetTokensTypeAndSerial("t8", "T-200"))
	if err != nil || len(one.Response) != 1 || one.Response[0].TokenID != totp.TokenID || *one.Response[0].TOTPStep != 60 {
		t.Fatalf("GetTokens(t8, T-200) = %+v, %v", one, err)
	}
	if _, e := form(t, a.base, http.MethodGet, "/admin/v1/tokens", url.Values{"type": {"sms"}}); e.Code != 40002 {
		t.Fatalf("type=sms = %+v", e)
	}

	// Given to a user, the token is on the user and the user on the token.
	user, err := a.client.CreateUser(url.Values{"username": {"tara"}})
	if err != nil || user.Stat != "OK" {
		t.Fatalf("CreateUser = %+v, %v", user, err)
	}
	uid := user.Response.UserID
	if res, err := a.client.AssociateUserToken(uid, hotp.TokenID); err != nil || res.Stat != "OK" {
		t.Fatalf("AssociateUserToken = %+v, %v", res, err)
	}
	mine, err := a.client.GetUserTokens(uid)
	if err != nil || len(mine.Response) != 1 || mine.Response[0].Serial != "H-100" {
		t.Fatalf("GetUserTokens = %+v, %v", mine, err)
	}
	got, err := a.client.GetUser(uid)
	if err != nil || len(got.Response.Tokens) != 1 || got.Response.Tokens[0].TokenID != hotp.TokenID || !got.Response.IsEnrolled {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	tok, err := a.client.GetToken(hotp.TokenID)
	if err != nil || len(tok.Response.Users) != 1 || tok.Response.Users[0].UserID != uid {
		t.Fatalf("GetToken = %+v, %v", tok, err)
	}
	other, _ := a.client.CreateUser(url.Values{"username": {"ugo"}})
	if res, _ := a.client.AssociateUserToken(other.Response.UserID, hotp.TokenID); res.Stat != "FAIL" || !strings.Contains(*res.Message_Detail, "another user") {
		t.Fatalf("giving tara's token to ugo = %+v", res)
	}
	if res, _ := a.client.AssociateUserToken(uid, "DHNOSUCHTOKEN0000000"); res.Stat != "FAIL" || *res.Message_Detail != "token not found" {
		t.Fatalf("an unknown token = %+v", res)
	}

	// Resync from the RFC 4226 codes of counters 5, 6 and 7: the token's
	// next code is then counter 8's.
	resync := func(id string, codes ...string) (int, envelope) {
		return form(t, a.base, http.MethodPost, "/admin/v1/tokens/"+id+"/resync",
			url.Values{"code1": {codes[0]}, "code2": {codes[1]}, "code3": {codes[2]}})
	}
	if code, e := resync(hotp.TokenID, "254676", "162583", "287922"); code != 400 || !strings.Contains(e.MessageDetail, "consecutive") {
		t.Fatalf("resync with codes out of order = %d %+v", code, e)
	}
	if code, e := resync(totp.TokenID, "1", "2", "3"); code != 400 || !strings.Contains(e.MessageDetail, "needs no resync") {
		t.Fatalf("resync of a TOTP token = %d %+v", code, e)
	}
	if code, e := resync(hotp.TokenID, "254676", "287922", "162583"); code != 200 || e.Stat != "OK" {
		t.Fatalf("resync = %d %+v", code, e)
	}
	stored := testkit.Got(a.p.Store.OATHTokenBySerial(ctx, "H-100")).Must(t)
	if stored.Counter != 7 {
		t.Fatalf("counter after resync = %d, want 7", stored.Counter)
	}

	// Taken back, the token stays, free; deleted, it is gone.
	if code, e := form(t, a.base, http.MethodDelete, "/admin/v1/users/"+uid+"/tokens/"+hotp.TokenID, nil); code != 200 || e.Stat != "OK" {
		t.Fatalf("unassign = %d %+v", code, e)
	}
	if tok, _ := a.client.GetToken(hotp.TokenID); len(tok.Response.Users) != 0 {
		t.Fatalf("the token still has users: %+v", tok.Response)
	}
	if got, _ := a.client.GetUser(uid); len(got.Response.Tokens) != 0 || got.Response.IsEnrolled {
		t.Fatalf("the user still has the token: %+v", got.Response)
	}
	if res, _ := a.client.AssociateUserToken(other.Response.UserID, hotp.TokenID); res.Stat != "OK" {
		t.Fatalf("the freed token to ugo = %+v", res)
	}
	if code, e := form(t, a.base, http.MethodDelete, "/admin/v1/tokens/"+hotp.TokenID, nil); code != 200 || e.Stat != "OK" {
		t.Fatalf("delete = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodGet, "/admin/v1/tokens/"+hotp.TokenID, nil); code != 404 || e.Code != 40401 {
		t.Fatalf("GET a deleted token = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodDelete, "/admin/v1/tokens/"+hotp.TokenID, nil); code != 404 || e.Code != 40401 {
		t.Fatalf("DELETE a deleted token = %d %+v", code, e)
	}
	if got, _ := a.client.GetUser(other.Response.UserID); len(got.Response.Tokens) != 0 {
		t.Fatalf("a deleted token is still ugo's: %+v", got.Response)
	}

	want := map[string]int{"hardware_token.created": 2, "hardware_token.assigned": 2, "hardware_token.resynced": 1,
		"hardware_token.unassigned": 1, "hardware_token.deleted": 1}
	entries, err := a.p.Store.SearchAudit(ctx, storeAuditAll())
	testkit.NoErr(t, err)
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "hardware_token.") {
			if en.ActorType != audit.ActorApplication {
				t.Errorf("%s by %s", en.Action, en.ActorType)
			}
			want[en.Action]--
		}
	}
	for action, n := range want {
		if n != 0 {
			t.Errorf("%s: %d records missing (negative: too many)", action, n)
		}
	}
}
