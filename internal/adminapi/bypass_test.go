package adminapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
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

// bypassCode is Duo's bypass code object as a client decodes it.
type bypassCode struct {
	BypassCodeID string `json:"bypass_code_id"`
	AdminEmail   string `json:"admin_email"`
	CreatedBy    string `json:"created_by"`
	Created      int64  `json:"created"`
	Expiration   *int64 `json:"expiration"`
	ReuseCount   int    `json:"reuse_count"`
	User         struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
	} `json:"user"`
}

// TestAdminAPIBypassCodesAreListedAndDeletedOneByOne: the codes that work
// are listed per user and for everyone (ids, uses left, expiry, who made
// them; never the codes), one is deleted by its id with an audit record,
// and the others keep working.
func TestAdminAPIBypassCodesAreListedAndDeletedOneByOne(t *testing.T) {
	a := newAdminPortal(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, name := range []string{"lena", "omar"} {
		u, err := a.client.CreateUser(url.Values{"username": {name}})
		if err != nil || u.Stat != "OK" {
			t.Fatalf("CreateUser = %+v, %v", u, err)
		}
		ids[name] = u.Response.UserID
	}
	// duo_api_golang's own call issues the codes (a v2 form).
	issued, err := a.client.GetUserBypassCodes(ids["lena"], func(v *url.Values) { v.Set("count", "3"); v.Set("valid_secs", "3600") })
	if err != nil || issued.Stat != "OK" || len(issued.Response) != 3 {
		t.Fatalf("GetUserBypassCodes = %+v, %v", issued, err)
	}
	if _, e := jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/"+ids["omar"]+"/bypass_codes",
		map[string]any{"count": 2, "reuse_count": 5}); e.Stat != "OK" {
		t.Fatalf("issue for omar: %+v", e)
	}
	// An admin's code shows the admin's email.
	omar, _ := a.p.Store.UserByUsername(ctx, "omar")
	if _, err := a.p.Factors.IssueBypassCodes(ctx, omar, factors.BypassOptions{Count: 1, Uses: 1, Replace: false},
		audit.Who{Type: audit.ActorAdmin, Name: "helpdesk@example.org"}); err != nil {
		t.Fatal(err)
	}

	code, e := form(t, a.base, http.MethodGet, "/admin/v1/users/"+ids["lena"]+"/bypass_codes", nil)
	var lena []bypassCode
	into(t, e, &lena)
	now := a.p.Clock.Now().Unix()
	if code != 200 || len(lena) != 3 || e.Metadata["total_objects"] != float64(3) {
		t.Fatalf("lena's codes = %d %+v %v", code, lena, e.Metadata)
	}
	for _, b := range lena {
		if !strings.HasPrefix(b.BypassCodeID, "DB") || len(b.BypassCodeID) != 20 || b.ReuseCount != 1 ||
			b.Expiration == nil || *b.Expiration != now+3600 || b.Created != now || b.User.UserID != ids["lena"] ||
			b.AdminEmail != "" || !strings.HasPrefix(b.CreatedBy, "application:") {
			t.Errorf("lena's code = %+v", b)
		}
		for _, plain := range issued.Response {
			if strings.Contains(string(e.Response), plain) {
				t.Fatalf("the list shows the code %s", plain)
			}
		}
	}

	// Every user's, paged two at a time until next_offset is missing.
	var all []bypassCode
	for offset := "0"; offset != ""; {
		_, e := form(t, a.base, http.MethodGet, "/admin/v1/bypass_codes", url.Values{"limit": {"2"}, "offset": {offset}})
		var page []bypassCode
		into(t, e, &page)
		all = append(all, page...)
		offset = ""
		if next, ok := e.Metadata["next_offset"].(float64); ok {
			offset = strconv.Itoa(int(next))
		}
	}
	if len(all) != 6 || all[5].AdminEmail != "helpdesk@example.org" || all[3].ReuseCount != 5 || all[3].Expiration != nil ||
		all[3].User.Username != "omar" {
		t.Fatalf("every code = %+v", all)
	}

	// One is read and deleted by its id; the user's others stay.
	gone := lena[1].BypassCodeID
	if _, e := form(t, a.base, http.MethodGet, "/admin/v1/bypass_codes/"+gone, nil); e.Stat != "OK" {
		t.Fatalf("get one: %+v", e)
	}
	if code, e := form(t, a.base, http.MethodDelete, "/admin/v1/bypass_codes/"+gone, nil); code != 200 || e.Stat != "OK" {
		t.Fatalf("delete = %d %+v", code, e)
	}
	for _, path := range []string{"/admin/v1/bypass_codes/" + gone, "/admin/v1/bypass_codes/DBNOSUCHCODE00000000"} {
		if code, e := form(t, a.base, http.MethodGet, path, nil); code != 404 || e.Code != 40401 {
			t.Errorf("GET %s = %d %+v", path, code, e)
		}
		if code, e := form(t, a.base, http.MethodDelete, path, nil); code != 404 || e.Code != 40401 {
			t.Errorf("DELETE %s = %d %+v", path, code, e)
		}
	}
	left, err := a.p.Store.BypassCodesByUser(ctx, mustUserID(t, a, "lena"))
	if err != nil || len(left) != 2 || left[0].Key != lena[0].BypassCodeID || left[1].Key != lena[2].BypassCodeID {
		t.Fatalf("lena's codes after the delete = %+v, %v", left, err)
	}
	entries, _ := a.p.Store.AuditForTarget(ctx, audit.TargetUser, "lena", 20)
	deleted := 0
	for _, en := range entries {
		if en.Action == audit.BypassCodeDeleted && en.ActorType == audit.ActorApplication && strings.Contains(en.Details, gone) {
			deleted++
		}
	}
	if deleted != 1 {
		t.Fatalf("%d delete records for %s", deleted, gone)
	}

	// An expired code is no longer listed: one made two hours ago to work
	// for one. (duo_api_golang signs with the wall clock, so the portal's
	// clock stays at now and the code is issued in the past.)
	now2 := a.p.Clock.Now()
	a.p.Clock.Set(now2.Add(-2 * time.Hour))
	if _, err := a.p.Factors.IssueBypassCodes(ctx, omar, factors.BypassOptions{Count: 1, Uses: 1, TTL: time.Hour},
		audit.Who{Type: audit.ActorAdmin, Name: "helpdesk@example.org"}); err != nil {
		t.Fatal(err)
	}
	a.p.Clock.Set(now2)
	if _, e := form(t, a.base, http.MethodGet, "/admin/v1/users/"+ids["omar"]+"/bypass_codes", nil); e.Metadata["total_objects"] != float64(3) {
		t.Fatalf("omar's codes with an expired one: %s %v", e.Response, e.Metadata)
	}
}
