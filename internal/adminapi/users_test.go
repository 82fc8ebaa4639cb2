package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/duosecurity/duo_api_golang/admin"

	"enrollportal/internal/audit"
	"enrollportal/internal/testkit"
)

func TestAdminAPIUsersThroughDuoGoClient(t *testing.T) {
	a := newAdminPortal(t)
	created, err := a.client.CreateUser(url.Values{"username": {"Alice"}, "email": {"alice@example.org"},
		"realname": {"Alice Liddell"}, "firstname": {"Alice"}, "alias1": {"ALICE.L"}, "notes": {"from HR"}})
	if err != nil || created.Stat != "OK" {
		t.Fatalf("CreateUser = %+v, %v", created, err)
	}
	u := created.Response
	if u.Username != "alice" || u.Email != "alice@example.org" || u.Created == 0 || u.LastLogin != nil ||
		u.IsEnrolled || u.Status != "active" || u.Alias1 == nil || *u.Alias1 != "alice.l" || u.Alias2 != nil {
		t.Fatalf("created user = %+v", u)
	}
	if u.Phones == nil || u.Groups == nil || u.Tokens == nil || u.U2FTokens == nil || u.WebAuthnTokens == nil {
		t.Fatalf("created user has null lists: %+v", u)
	}
	if !strings.HasPrefix(u.UserID, "DU") {
		t.Fatalf("user_id = %q", u.UserID)
	}

	// Usernames are normalised on lookup as on create.
	list, err := a.client.GetUsers(admin.GetUsersUsername("ALICE"))
	if err != nil || len(list.Response) != 1 || list.Response[0].UserID != u.UserID {
		t.Fatalf("GetUsers(username) = %+v, %v", list, err)
	}
	got, err := a.client.GetUser(u.UserID)
	if err != nil || got.Response.RealName == nil || *got.Response.RealName != "Alice Liddell" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}

	mod, err := a.client.ModifyUser(u.UserID, url.Values{"status": {"disabled"}, "lastname": {"Liddell"}})
	if err != nil || mod.Response.Status != "disabled" || *mod.Response.LastName != "Liddell" || *mod.Response.FirstName != "Alice" {
		t.Fatalf("ModifyUser = %+v, %v", mod, err)
	}
	if mod, _ := a.client.ModifyUser(u.UserID, url.Values{"status": {"locked out"}}); mod.Stat != "FAIL" || *mod.Message_Detail == "" {
		t.Fatalf("setting locked out answered %+v", mod)
	}

	// Groups: create, associate, list, disassociate.
	code, e := form(t, a.base, http.MethodPost, "/admin/v1/groups", url.Values{"name": {"Staff"}, "desc": {"Everyone"}})
	var g admin.Group
	into(t, e, &g)
	if code != http.StatusOK || g.Name != "Staff" || g.Desc != "Everyone" || !strings.HasPrefix(g.GroupID, "DG") {
		t.Fatalf("create group = %d %+v", code, g)
	}
	if r, err := a.client.AssociateGroupWithUser(u.UserID, g.GroupID); err != nil || r.Stat != "OK" {
		t.Fatalf("AssociateGroupWithUser = %+v, %v", r, err)
	}
	groups, err := a.client.GetUserGroups(u.UserID)
	if err != nil || len(groups.Response) != 1 || groups.Response[0].GroupID != g.GroupID {
		t.Fatalf("GetUserGroups = %+v, %v", groups, err)
	}
	one, err := a.client.GetGroup(g.GroupID)
	if err != nil || one.Response.Name != "Staff" {
		t.Fatalf("GetGroup = %+v, %v", one, err)
	}
	_, e = form(t, a.base, http.MethodGet, "/admin/v2/groups/"+g.GroupID+"/users", nil)
	var members []map[string]string
	into(t, e, &members)
	if len(members) != 1 || members[0]["username"] != "alice" {
		t.Fatalf("v2 group users = %+v", members)
	}
	if r, err := a.client.DisassociateGroupFromUser(u.UserID, g.GroupID); err != nil || r.Stat != "OK" {
		t.Fatalf("DisassociateGroupFromUser = %+v, %v", r, err)
	}
	for _, path := range []string{"/phones", "/tokens", "/webauthncredentials", "/u2ftokens", "/groups"} {
		_, e := form(t, a.base, http.MethodGet, "/admin/v1/users/"+u.UserID+path, nil)
		if string(e.Response) != "[]" {
			t.Errorf("%s = %s, want []", path, e.Response)
		}
	}

	// Every change was recorded with the application as the actor.
	entries, err := a.p.Store.AuditForTarget(context.Background(), audit.TargetUser, "alice", 20)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, en := range entries {
		if en.ActorType != audit.ActorApplication || !strings.Contains(en.Actor, a.app.App.Key) {
			t.Errorf("audit %s by %s %s", en.Action, en.ActorType, en.Actor)
		}
		actions[en.Action] = true
	}
	for _, want := range []string{audit.UserCreated, audit.UserUpdated, audit.UserGroupAdded, audit.UserGroupRemoved} {
		if !actions[want] {
			t.Errorf("no %s audit record; got %v", want, actions)
		}
	}

	if r, err := a.client.DeleteUser(u.UserID); err != nil || r.Stat != "OK" {
		t.Fatalf("DeleteUser = %+v, %v", r, err)
	}
	gone, err := a.client.GetUser(u.UserID)
	if err != nil || gone.Stat != "FAIL" || gone.Message == nil || *gone.Message != "Resource not found" {
		t.Fatalf("GetUser after delete = %+v, %v", gone, err)
	}
	code, e = form(t, a.base, http.MethodGet, "/admin/v1/users/"+u.UserID, nil)
	if code != http.StatusNotFound || e.Code != 40401 {
		t.Fatalf("deleted user answered %d %+v", code, e)
	}
}

func TestAdminAPIJSONBodiesWithTypedValues(t *testing.T) {
	a := newAdminPortal(t)
	// v5 with a JSON body: aliases as an object, as duo_client_python sends.
	code, e := jsonCall(t, a.base, http.MethodPost, "/admin/v1/users", map[string]any{
		"username": "bob", "email": "bob@example.org", "aliases": map[string]string{"alias2": "robert"},
	})
	var bob admin.User
	into(t, e, &bob)
	if code != http.StatusOK || bob.Alias2 == nil || *bob.Alias2 != "robert" || bob.Alias1 != nil {
		t.Fatalf("create with aliases object = %d %+v", code, bob)
	}
	// bulk_create with users as a JSON array, not a string.
	code, e = jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/bulk_create", map[string]any{
		"users": []map[string]any{{"username": "carol", "email": "carol@example.org"}, {"username": "dave", "realname": "Dave"}},
	})
	var made []admin.User
	into(t, e, &made)
	if code != http.StatusOK || len(made) != 2 || made[0].Username != "carol" || made[1].Username != "dave" {
		t.Fatalf("bulk_create = %d %+v", code, made)
	}
	// The same as a form, users as a JSON string.
	users, _ := json.Marshal([]map[string]string{{"username": "erin"}})
	code, e = form(t, a.base, http.MethodPost, "/admin/v1/users/bulk_create", url.Values{"users": {string(users)}})
	into(t, e, &made)
	if code != http.StatusOK || len(made) != 1 || made[0].Username != "erin" {
		t.Fatalf("bulk_create form = %d %+v", code, made)
	}
	// One bad user refuses the whole call.
	before := countUsers(t, a.p)
	code, e = jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/bulk_create", map[string]any{
		"users": []map[string]any{{"username": "frank"}, {"username": "bob"}},
	})
	if code != http.StatusBadRequest || e.Code != 40002 || !strings.Contains(e.MessageDetail, "users[1]") {
		t.Fatalf("bulk_create with a taken username = %d %+v", code, e)
	}
	if countUsers(t, a.p) != before {
		t.Fatal("a refused bulk_create created users")
	}
	over := make([]map[string]any, 101)
	for i := range over {
		over[i] = map[string]any{"username": "u" + strconv.Itoa(i)}
	}
	if code, e := jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/bulk_create", map[string]any{"users": over}); code != http.StatusBadRequest || e.Code != 40002 {
		t.Fatalf("bulk_create of 101 = %d %+v", code, e)
	}
	// Filters as JSON-encoded arrays, in a v5 query.
	code, e = jsonCall(t, a.base, http.MethodGet, "/admin/v1/users", map[string]any{"username_list": `["carol","DAVE","nobody"]`})
	var found []admin.User
	into(t, e, &found)
	if code != http.StatusOK || len(found) != 2 {
		t.Fatalf("username_list = %d %+v", code, found)
	}
	code, e = form(t, a.base, http.MethodGet, "/admin/v1/users", url.Values{"user_id_list": {`["` + bob.UserID + `"]`}})
	into(t, e, &found)
	if code != http.StatusOK || len(found) != 1 || found[0].Username != "bob" {
		t.Fatalf("user_id_list = %d %+v", code, found)
	}
	// Typed numbers and booleans where a number is wanted.
	code, e = jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/"+bob.UserID, map[string]any{"status": "bypass", "notes": "VIP"})
	into(t, e, &bob)
	if code != http.StatusOK || bob.Status != "bypass" || bob.Notes != "VIP" {
		t.Fatalf("modify by JSON = %d %+v", code, bob)
	}
}

func TestAdminAPIRefusesBadParametersAndPaths(t *testing.T) {
	a := newAdminPortal(t)
	for _, tt := range []struct {
		method, path string
		params       url.Values
		status, code int
	}{
		{http.MethodGet, "/admin/v1/users", url.Values{"frobnicate": {"1"}}, 400, 40002},
		{http.MethodGet, "/admin/v1/users", url.Values{"limit": {"ten"}}, 400, 40002},
		{http.MethodGet, "/admin/v1/users", url.Values{"limit": {"0"}}, 400, 40002},
		{http.MethodGet, "/admin/v1/users", url.Values{"offset": {"-1"}}, 400, 40002},
		{http.MethodGet, "/admin/v1/users", url.Values{"username_list": {"carol"}}, 400, 40002},
		{http.MethodPost, "/admin/v1/users", url.Values{"username": {"bad name"}}, 400, 40002},
		{http.MethodPost, "/admin/v1/users", url.Values{"email": {"x@example.org"}}, 400, 40002},
		{http.MethodPost, "/admin/v1/users", url.Values{"username": {"ok"}, "status": {"sleeping"}}, 400, 40002},
		{http.MethodPost, "/admin/v1/users", url.Values{"username": {"ok"}, "email": {"not an email"}}, 400, 40002},
		{http.MethodGet, "/admin/v1/users/DUNOSUCHUSER0000000", nil, 404, 40401},
		{http.MethodGet, "/admin/v1/nonsense", nil, 404, 40401},
		{http.MethodGet, "/admin/v2/nonsense/deeper", nil, 404, 40401},
		{http.MethodPut, "/admin/v1/users", nil, 405, 40501},
	} {
		code, e := form(t, a.base, tt.method, tt.path, tt.params)
		if code != tt.status || e.Stat != "FAIL" || e.Code != tt.code || e.Message == "" {
			t.Errorf("%s %s %v = %d %+v, want %d %d", tt.method, tt.path, tt.params, code, e, tt.status, tt.code)
		}
	}
	if n := countUsers(t, a.p); n != 0 {
		t.Fatalf("refused calls created %d users", n)
	}
}

func TestAdminAPIUnsignedWronglySignedAndMalformedChangeNothing(t *testing.T) {
	a := newAdminPortal(t)
	auditBefore, err := a.p.Store.SearchAudit(context.Background(), storeAuditAll())
	if err != nil {
		t.Fatal(err)
	}
	date := a.p.Clock.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
	params := url.Values{"username": {"mallory"}}
	good := signV2(a.app.ClientID, a.app.ClientSecret, date, http.MethodPost, a.host, "/admin/v1/users", params)
	wrongKey := signV2(a.app.ClientID, strings.Repeat("x", 40), date, http.MethodPost, a.host, "/admin/v1/users", params)
	oldDate := a.p.Clock.Now().Add(-10 * 60e9).UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
	stale := signV2(a.app.ClientID, a.app.ClientSecret, oldDate, http.MethodPost, a.host, "/admin/v1/users", params)
	formCT := "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name, ct, body, auth, date string
		status                     int
	}{
		{"unsigned", formCT, params.Encode(), "", date, 401},
		{"wrong secret", formCT, params.Encode(), wrongKey, date, 401},
		{"stale date", formCT, params.Encode(), stale, oldDate, 401},
		{"body changed after signing", formCT, "username=eve", good, date, 401},
		{"malformed authorization", formCT, params.Encode(), "Basic !!!", date, 401},
		{"malformed body", formCT, "username=%zz", good, date, 400},
		{"JSON that is not an object", "application/json", `["mallory"]`, good, date, 400},
		{"XML", "text/xml", "<u>mallory</u>", good, date, 400},
	} {
		code, e := a.raw(t, http.MethodPost, "/admin/v1/users", tt.ct, tt.body, tt.auth, tt.date)
		if code != tt.status || e.Stat != "FAIL" || e.Code == 0 {
			t.Errorf("%s: %d %+v, want %d", tt.name, code, e, tt.status)
		}
	}
	if n := countUsers(t, a.p); n != 0 {
		t.Fatalf("refused requests created %d users", n)
	}
	auditAfter, err := a.p.Store.SearchAudit(context.Background(), storeAuditAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(auditAfter) != len(auditBefore) {
		t.Fatalf("refused requests wrote %d audit records", len(auditAfter)-len(auditBefore))
	}
	// The same request, rightly signed, works: the cases above failed for
	// what they changed, not for the request itself.
	if code, e := a.raw(t, http.MethodPost, "/admin/v1/users", formCT, params.Encode(), good, date); code != 200 || e.Stat != "OK" {
		t.Fatalf("the rightly signed request = %d %+v", code, e)
	}
}

func TestAdminAPIPagesThroughAThousandUsersBothWays(t *testing.T) {
	a := newAdminPortal(t)
	for batch := range 10 {
		users := make([]map[string]any, 100)
		for i := range users {
			users[i] = map[string]any{"username": fmt.Sprintf("user%04d", batch*100+i)}
		}
		if code, e := jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/bulk_create", map[string]any{"users": users}); code != 200 {
			t.Fatalf("bulk_create: %d %+v", code, e)
		}
	}
	// duo_api_golang without a limit follows next_offset to the end.
	all, err := a.client.GetUsers()
	if err != nil || len(all.Response) != 1000 {
		t.Fatalf("GetUsers() = %d users, %v", len(all.Response), err)
	}
	seen := map[string]bool{}
	for _, u := range all.Response {
		seen[u.Username] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct users in 1000", len(seen))
	}
	// Forwards by hand with the largest page, then back by prev_offset.
	offset, pages := "0", 0
	var last envelope
	for offset != "" {
		_, e := form(t, a.base, http.MethodGet, "/admin/v1/users", url.Values{"limit": {"300"}, "offset": {offset}})
		if e.Metadata["total_objects"] != float64(1000) {
			t.Fatalf("total_objects = %v", e.Metadata["total_objects"])
		}
		offset = ""
		if n, ok := e.Metadata["next_offset"]; ok {
			offset = strconv.Itoa(int(n.(float64)))
		}
		last = e
		pages++
	}
	if pages != 4 {
		t.Fatalf("%d pages of 300 for 1000 users", pages)
	}
	var tail []admin.User
	into(t, last, &tail)
	if len(tail) != 100 || tail[99].Username != "user0999" {
		t.Fatalf("last page has %d users", len(tail))
	}
	back, ok := last.Metadata["prev_offset"]
	got := len(tail)
	for ok {
		_, e := form(t, a.base, http.MethodGet, "/admin/v1/users", url.Values{"limit": {"300"}, "offset": {strconv.Itoa(int(back.(float64)))}})
		var page []admin.User
		into(t, e, &page)
		got += len(page)
		back, ok = e.Metadata["prev_offset"]
		if !ok && page[0].Username != "user0000" {
			t.Fatalf("first page starts with %s", page[0].Username)
		}
	}
	if got != 1000 {
		t.Fatalf("paging back saw %d users", got)
	}
	// Duo's 500 users a page is served as 300, with metadata to match.
	_, e := form(t, a.base, http.MethodGet, "/admin/v1/users", url.Values{"limit": {"500"}})
	var page []admin.User
	into(t, e, &page)
	if len(page) != 300 || e.Metadata["next_offset"] != float64(300) {
		t.Fatalf("limit=500 answered %d users, metadata %v", len(page), e.Metadata)
	}
}

func TestAdminAPIEnrollEmailsTheLinkThroughTheOutbox(t *testing.T) {
	inbox := testkit.NewInbox(t)
	a := newAdminPortal(t, testkit.WithDelivery(inbox, nil))
	code, e := form(t, a.base, http.MethodPost, "/admin/v1/users/enroll", url.Values{"username": {"Grace"}, "email": {"grace@example.org"}, "valid_secs": {"3600"}})
	var token string
	into(t, e, &token)
	if code != 200 || token == "" {
		t.Fatalf("enroll = %d %+v", code, e)
	}
	if _, err := a.p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := inbox.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "grace@example.org" || !strings.Contains(msgs[0].Text, "/enroll/"+token) {
		t.Fatalf("inbox = %+v", msgs)
	}
	// The link opens the enrollment page.
	resp, err := a.tls.Client().Get(a.p.URL + "/enroll/" + token)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("opening the link: %v %v", resp, err)
	}
	resp.Body.Close()
	// A second enroll replaces the link; another email address is refused.
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/users/enroll", url.Values{"username": {"grace"}, "email": {"other@example.org"}}); code != 400 || e.Code != 40002 {
		t.Fatalf("enroll with another email = %d %+v", code, e)
	}
	if code, e := jsonCall(t, a.base, http.MethodPost, "/admin/v1/users/enroll", map[string]any{"username": "heidi", "email": "heidi@example.org", "valid_secs": 0}); code != 400 || !strings.Contains(e.MessageDetail, "always expire") {
		t.Fatalf("valid_secs 0 = %d %+v", code, e)
	}
}
