package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// accessFixture is a portal with a unix application, a group "staff" with
// one member, an enrolled user and one who has not enrolled.
type accessFixture struct {
	p     *testkit.Portal
	app   store.Application
	staff store.Group
}

func newAccessFixture(t *testing.T) accessFixture {
	t.Helper()
	p := testkit.New(t)
	ctx := context.Background()
	created, err := p.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: store.AppUnix}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	f := accessFixture{p: p, app: created.App}
	f.staff = store.Group{Key: "DGSTAFF0000000000000", Name: "staff", CreatedAt: p.Clock.Now()}
	if err := p.Store.CreateGroup(ctx, &f.staff); err != nil {
		t.Fatal(err)
	}
	addUser(t, p, "nina", "", "")
	erin := addUser(t, p, "erin", "", "")
	if err := p.Store.AddUserToGroup(ctx, erin.ID, f.staff.ID); err != nil {
		t.Fatal(err)
	}
	now := p.Clock.Now()
	ph := store.Phone{Key: "DPERIN00000000000000", Type: store.PhoneMobile, Platform: store.PlatformGeneric,
		TOTPSecret: []byte("sealed"), Activated: true, ActivatedAt: &now, CreatedAt: now}
	if err := p.Store.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.AttachPhone(ctx, erin.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

var confirmVersion = regexp.MustCompile(`name="confirm_version" value="([0-9a-f]+)"`)

// previewThenConfirm posts form to path, checks the preview holds every
// want, then confirms it as the page's form does.
func previewThenConfirm(t *testing.T, c *testkit.Client, path string, form url.Values, want ...string) testkit.Response {
	t.Helper()
	r := c.Post(path, form)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("preview %s: %d\n%s", path, r.StatusCode, r.Body)
	}
	for _, w := range want {
		if !strings.Contains(r.Body, w) {
			t.Fatalf("preview %s lacks %q:\n%s", path, w, r.Body)
		}
	}
	m := confirmVersion.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("preview without a confirm form:\n%s", r.Body)
	}
	confirm := url.Values{}
	for k, v := range form {
		confirm[k] = v
	}
	confirm.Set("confirm_version", m[1])
	return c.Post(path, confirm)
}

func TestAdminAccessPreviewConfirmAndLogin(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	c, _ := f.p.SignInAs(t, admin.RoleApplicationManager)
	path := "/admin/applications/" + f.app.Key + "/access"
	if r := c.Get(path); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Access to VPN") || !strings.Contains(r.Body, "global policy") {
		t.Fatalf("access page: %d\n%s", r.StatusCode, r.Body)
	}
	decide := func(name string) string {
		app, _ := f.p.Store.ApplicationByID(ctx, f.app.ID)
		l, err := f.p.Policy.DecideLogin(ctx, app, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l.Result
	}

	// Restricting to staff: the preview names nina, and nothing changes
	// until the admin confirms.
	form := url.Values{"kind": {"app-groups"}, "restricted": {"yes"}, "groups": {strconv.FormatInt(f.staff.ID, 10)}}
	r := c.Post(path, form)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "1 user of VPN: enroll -&gt; deny (not in permitted groups)") ||
		!strings.Contains(r.Body, "nina") || strings.Contains(r.Body, "erin,") {
		t.Fatalf("preview: %d\n%s", r.StatusCode, r.Body)
	}
	if decide("nina") != policy.ResultEnroll {
		t.Fatal("a preview changed access")
	}
	csvLink := regexp.MustCompile(`href="(/admin/applications/[^"]+/impact\.csv\?[^"]+)"`).FindStringSubmatch(r.Body)
	if csvLink == nil {
		t.Fatal("no CSV link")
	}
	csvRes := c.Get(strings.ReplaceAll(csvLink[1], "&amp;", "&"))
	if csvRes.StatusCode != http.StatusOK || csvRes.Body != "application,username,from,to,reason\nVPN,nina,enroll,deny,not in permitted groups\n" {
		t.Fatalf("CSV: %d %q", csvRes.StatusCode, csvRes.Body)
	}
	r = previewThenConfirm(t, c, path, form, "nina")
	if r.StatusCode != http.StatusSeeOther || r.Location() != path {
		t.Fatalf("confirm: %d %s\n%s", r.StatusCode, r.Location(), r.Body)
	}
	if decide("nina") != policy.ResultDeny || decide("erin") != policy.ResultAuth {
		t.Fatalf("after saving: nina %s, erin %s", decide("nina"), decide("erin"))
	}
	entries, _ := f.p.Store.SearchAudit(ctx, store.AuditFilter{Limit: 1})
	if len(entries) != 1 || entries[0].Action != audit.ApplicationGroupsSet || entries[0].Actor != "application_manager@example.org" {
		t.Fatalf("audit %+v", entries)
	}

	// A policy of its own: deny new users. Created, chosen, then its
	// settings shown with their level.
	r = c.Post("/admin/policies", url.Values{"name": {"Strict"}, "new_user_policy": {"deny"},
		"denied_countries_mode": {"inherit"}, "enroll_methods_mode": {"inherit"}, "auth_methods_mode": {"inherit"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create policy: %d\n%s", r.StatusCode, r.Body)
	}
	cfg, _ := f.p.Policy.LoadConfig(ctx)
	var strict store.Policy
	for _, p := range cfg.Policies {
		if p.Name == "Strict" {
			strict = p
		}
	}
	r = previewThenConfirm(t, c, path, url.Values{"kind": {"app-policy"}, "policy": {strconv.FormatInt(strict.ID, 10)}},
		"No user who is in the portal gets a different outcome")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set policy: %d", r.StatusCode)
	}
	if page := c.Get(path); !strings.Contains(page.Body, "<td data-label=\"Value\">deny</td><td data-label=\"Comes from\">application</td>") {
		t.Fatalf("level not shown:\n%s", page.Body)
	}
	if r := c.Post("/admin/policies/"+strict.Key+"/delete", nil); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "the policy of VPN") {
		t.Fatalf("delete in use: %d\n%s", r.StatusCode, r.Body)
	}

	// A group override, then its removal.
	r = previewThenConfirm(t, c, path, url.Values{"kind": {"override"}, "group": {strconv.FormatInt(f.staff.ID, 10)},
		"override_policy": {strconv.FormatInt(strict.ID, 10)}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(c.Get(path).Body, "Members of staff get Strict") {
		t.Fatalf("override: %d", r.StatusCode)
	}
	r = previewThenConfirm(t, c, path, url.Values{"kind": {"override-remove"}, "group": {strconv.FormatInt(f.staff.ID, 10)}})
	if r.StatusCode != http.StatusSeeOther || strings.Contains(c.Get(path).Body, "Members of staff get Strict") {
		t.Fatalf("override removal: %d", r.StatusCode)
	}
}

func TestAdminAccessRefusesBadFormsAndChangesNothing(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	c, _ := f.p.SignInAs(t, admin.RoleAdministrator)
	path := "/admin/applications/" + f.app.Key + "/access"
	c.Get(path)
	before, _ := f.p.Policy.LoadConfig(ctx)
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no groups ticked", url.Values{"kind": {"app-groups"}, "restricted": {"yes"}}, "Choose at least one group"},
		{"unknown group", url.Values{"kind": {"app-groups"}, "restricted": {"yes"}, "groups": {"x"}}, "Choose a group from the list"},
		{"unknown policy", url.Values{"kind": {"app-policy"}, "policy": {"99999"}}, "That policy no longer exists"},
		{"override without a policy", url.Values{"kind": {"override"}, "group": {strconv.FormatInt(f.staff.ID, 10)}}, "That policy no longer exists"},
		{"remove a missing override", url.Values{"kind": {"override-remove"}, "group": {strconv.FormatInt(f.staff.ID, 10)}}, "have no policy of their own here"},
		{"unknown kind", url.Values{"kind": {"everything"}}, "Choose one of the forms"},
	}
	for _, tt := range tests {
		for _, confirm := range []string{"", before.Version()} {
			form := url.Values{}
			for k, v := range tt.form {
				form[k] = v
			}
			if confirm != "" {
				form.Set("confirm_version", confirm)
			}
			r := c.Post(path, form)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tt.want) || !strings.Contains(r.Body, "Nothing was saved") {
				t.Errorf("%s (confirm %q): %d, want 422 with %q", tt.name, confirm, r.StatusCode, tt.want)
			}
		}
	}
	// A confirmation of a preview someone else overtook shows the impact
	// again instead of saving.
	r := c.Post(path, url.Values{"kind": {"app-groups"}, "restricted": {"no"}, "confirm_version": {"0000000000000000"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Someone changed the access settings") {
		t.Fatalf("stale confirm: %d\n%s", r.StatusCode, r.Body)
	}
	after, _ := f.p.Policy.LoadConfig(ctx)
	if before.Version() != after.Version() {
		t.Fatal("a refused form changed access")
	}
	if r := c.Get("/admin/applications/DANOSUCHAPP/access"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown application: %d", r.StatusCode)
	}
}

func TestAdminPolicyEditValidatesByField(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	c, _ := f.p.SignInAs(t, admin.RoleOwner)
	global, _ := f.p.Store.GlobalPolicy(ctx)
	path := "/admin/policies/" + global.Key
	if r := c.Get(path); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "No GeoIP file is configured") || !strings.Contains(r.Body, "North Korea (KP)") {
		t.Fatalf("global policy page: %d", r.StatusCode)
	}
	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"no auth method", url.Values{"new_user_policy": {"deny"}, "denied_countries_mode": {"set"}, "enroll_methods_mode": {"set"},
			"enroll_methods": {"security_key"}, "auth_methods_mode": {"set"}}, "Choose at least one method"},
		{"unknown country", url.Values{"new_user_policy": {"deny"}, "denied_countries_mode": {"set"}, "denied_countries": {"XX"},
			"enroll_methods_mode": {"set"}, "auth_methods_mode": {"set"}, "auth_methods": {"security_key"}}, "Choose countries from the list"},
		{"global inherits", url.Values{"new_user_policy": {"inherit"}, "denied_countries_mode": {"set"}, "enroll_methods_mode": {"set"},
			"auth_methods_mode": {"set"}, "auth_methods": {"security_key"}}, "no level above to inherit from"},
		{"unknown method", url.Values{"new_user_policy": {"allow"}, "denied_countries_mode": {"set"}, "enroll_methods_mode": {"set"},
			"enroll_methods": {"carrier_pigeon"}, "auth_methods_mode": {"set"}, "auth_methods": {"security_key"}}, "Choose methods from the list"},
	}
	for _, tt := range bad {
		if r := c.Post(path, tt.form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tt.want) {
			t.Errorf("%s: %d, want 422 with %q", tt.name, r.StatusCode, tt.want)
		}
	}
	if r := c.Post("/admin/policies", url.Values{"name": {""}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Give the policy a name") {
		t.Errorf("nameless policy: %d", r.StatusCode)
	}
	// Security keys only: erin's authenticator app stops counting, so she
	// must enroll; the preview says so, and saving makes it so.
	form := url.Values{"new_user_policy": {"require-enrollment"}, "denied_countries_mode": {"set"}, "denied_countries": {"KP"},
		"enroll_methods_mode": {"set"}, "enroll_methods": {"security_key"}, "auth_methods_mode": {"set"}, "auth_methods": {"security_key"}}
	r := previewThenConfirm(t, c, path, form, "1 user of VPN: auth -&gt; enroll (enrollment required)", "erin")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save global: %d", r.StatusCode)
	}
	global, _ = f.p.Store.GlobalPolicy(ctx)
	if strings.Join(global.AuthMethods, ",") != "security_key" || strings.Join(global.DeniedCountries, ",") != "KP" {
		t.Fatalf("global after save: %+v", global)
	}
	if r := c.Get("/admin/policies"); !strings.Contains(r.Body, "Global policy") || !strings.Contains(r.Body, "every application") {
		t.Fatalf("policies list: %d", r.StatusCode)
	}
}

func TestAdminCheckAccessForEveryRole(t *testing.T) {
	f := newAccessFixture(t)
	var c *testkit.Client
	for _, role := range admin.Roles {
		c, _ = f.p.SignInAs(t, role)
		r := c.Get("/admin/check-access?username=er&application=" + strconv.FormatInt(f.app.ID, 10))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `href="/admin/check-access?username=erin&amp;application=`) {
			t.Fatalf("%s prefix search: %d\n%s", role, r.StatusCode, r.Body)
		}
		r = c.Get("/admin/check-access?username=erin&application=" + strconv.FormatInt(f.app.ID, 10))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `<strong id="check-decision">auth</strong>`) || !strings.Contains(r.Body, "Decided by</dt><dd>global policy") {
			t.Fatalf("%s check: %d\n%s", role, r.StatusCode, r.Body)
		}
		// Viewing is for every role; the forms only for those who change.
		page := c.Get("/admin/applications/" + f.app.Key + "/access")
		if page.StatusCode != http.StatusOK || strings.Contains(page.Body, "Preview the effect") != admin.Can(role, admin.ManageApplications, admin.Settings{}) {
			t.Fatalf("%s access page: %d", role, page.StatusCode)
		}
	}
	// c is the last role's, read-only.
	r := c.Get("/admin/check-access?username=&application=999&country=XX")
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Type a username") || !strings.Contains(r.Body, "Choose countries from the list") {
		t.Fatalf("bad check: %d\n%s", r.StatusCode, r.Body)
	}
}

func TestAdminPolicyCSVDeleteAndReadOnly(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	c, _ := f.p.SignInAs(t, admin.RoleOwner)
	global, _ := f.p.Store.GlobalPolicy(ctx)
	// The CSV of a global change: erin's app stops counting.
	q := url.Values{"new_user_policy": {"require-enrollment"}, "denied_countries_mode": {"set"}, "enroll_methods_mode": {"set"},
		"enroll_methods": {"security_key"}, "auth_methods_mode": {"set"}, "auth_methods": {"security_key"}}
	r := c.Get("/admin/policies/" + global.Key + "/impact.csv?" + q.Encode())
	if r.StatusCode != http.StatusOK || r.Body != "application,username,from,to,reason\nVPN,erin,auth,enroll,enrollment required\n" {
		t.Fatalf("policy CSV: %d %q", r.StatusCode, r.Body)
	}
	q.Set("auth_methods", "carrier_pigeon")
	if r := c.Get("/admin/policies/" + global.Key + "/impact.csv?" + q.Encode()); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid CSV: %d", r.StatusCode)
	}
	if r := c.Post("/admin/policies/"+global.Key+"/delete", nil); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "The global policy cannot be deleted") {
		t.Fatalf("delete global: %d", r.StatusCode)
	}
	c.Get("/admin/policies")
	if r := c.Post("/admin/policies", url.Values{"name": {"Spare"}, "new_user_policy": {"allow"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", r.StatusCode)
	}
	cfg, _ := f.p.Policy.LoadConfig(ctx)
	var spare store.Policy
	for _, p := range cfg.Policies {
		if p.Name == "Spare" {
			spare = p
		}
	}
	if r := c.Post("/admin/policies/"+spare.Key+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete unused: %d", r.StatusCode)
	}
	if r := c.Get("/admin/policies/" + spare.Key); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted policy: %d", r.StatusCode)
	}
	entries, _ := f.p.Store.SearchAudit(ctx, store.AuditFilter{Limit: 1})
	if len(entries) != 1 || entries[0].Action != audit.PolicyDeleted || !strings.Contains(entries[0].Details, `"new_user_policy":"allow"`) {
		t.Fatalf("audit %+v", entries)
	}
	ro, _ := f.p.SignInAs(t, admin.RoleReadOnly)
	if r := ro.Get("/admin/policies/" + global.Key); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "Preview the effect") || !strings.Contains(r.Body, "New user policy") {
		t.Fatalf("read-only policy page: %d", r.StatusCode)
	}
}
