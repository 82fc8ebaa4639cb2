package admin_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestAdminGroups(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	c.Get("/admin/groups")
	for _, form := range []url.Values{{"name": {"  "}}, {"name": {strings.Repeat("g", 101)}}} {
		if r := c.Post("/admin/groups", form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "1 to 100 characters") {
			t.Fatalf("bad group %v: %d", form, r.StatusCode)
		}
	}
	if r := c.Post("/admin/groups", url.Values{"name": {"Finance"}, "description": {"Money people"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", r.StatusCode)
	}
	if r := c.Post("/admin/groups", url.Values{"name": {"Finance"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "already exists") {
		t.Fatalf("duplicate: %d", r.StatusCode)
	}
	g, err := p.Store.GroupByName(ctx, "Finance")
	if err != nil {
		t.Fatal(err)
	}
	u := addUser(t, p, "erin", "", "")
	if err := p.Store.AddUserToGroup(ctx, u.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/admin/groups"); !strings.Contains(r.Body, "Money people") || !strings.Contains(r.Body, "<td>1</td>") {
		t.Fatalf("list:\n%s", r.Body)
	}
	if r := c.Post("/admin/groups/"+g.Key+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := p.Store.GroupByName(ctx, "Finance"); err != store.ErrNotFound {
		t.Fatalf("group still there: %v", err)
	}
	if _, err := p.Store.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("member deleted with the group: %v", err)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetGroup, "Finance", 5)
	if len(entries) != 2 || entries[0].Action != audit.GroupDeleted || entries[1].Action != audit.GroupCreated {
		t.Fatalf("audit: %+v", entries)
	}
}

func TestAdminSettings(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleOwner)
	if r := c.Get("/admin/settings"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `value="24"`) {
		t.Fatalf("settings page: %d", r.StatusCode)
	}
	bad := []url.Values{
		{"org_name": {""}, "activation_hours": {"24"}},
		{"org_name": {"Acme"}, "activation_hours": {"0"}},
		{"org_name": {"Acme"}, "activation_hours": {"721"}},
		{"org_name": {"Acme"}, "activation_hours": {"twelve"}},
	}
	for _, form := range bad {
		if r := c.Post("/admin/settings", form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Nothing was saved") {
			t.Fatalf("bad settings %v: %d", form, r.StatusCode)
		}
	}
	if v := testkit.Got(org.Load(ctx, p.Store)).Must(t); v.Name != "" {
		t.Fatalf("bad input saved a name: %q", v.Name)
	}
	r := c.Post("/admin/settings", url.Values{"org_name": {"Acme Corp"}, "activation_hours": {"48"}, "helpdesk_may_send": {"true"},
		"message_header": {"Automated message from Acme IT."}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
	}
	want := org.Values{Name: "Acme Corp", ActivationHours: 48, HelpDeskMaySend: true, MessageHeader: "Automated message from Acme IT.",
		PhoneRegion: org.DefaultPhoneRegion, SelfRenew: true}
	if got := testkit.Got(org.Load(ctx, p.Store)).Must(t); !reflect.DeepEqual(got, want) {
		t.Errorf("settings %+v, want %+v", got, want)
	}
	if e := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetSettings, "organisation", 1)).Must(t); len(e) != 1 || !strings.Contains(e[0].Details, "Acme Corp") {
		t.Fatalf("audit: %+v", e)
	}
	// The help desk now may send enrollment emails (the matrix reads the setting).
	hd, _ := p.SignInAs(t, admin.RoleHelpDesk)
	if r := hd.Get("/admin/settings"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("help desk on settings: %d", r.StatusCode)
	}
}

func TestAdminAdmins(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, owner := p.SignInAs(t, admin.RoleOwner)
	c.Get("/admin/admins")
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"x"}, "role": {"read_only"}, "password": {"long enough password"}}, "Enter an email address"},
		{url.Values{"email": {"x@example.org"}, "role": {"god"}, "password": {"long enough password"}}, "Choose one of the roles"},
		{url.Values{"email": {"x@example.org"}, "role": {"read_only"}, "password": {"short"}}, "at least 12 characters"},
		{url.Values{"email": {owner.Email}, "role": {"read_only"}, "password": {"long enough password"}}, "already exists"},
	}
	for _, b := range bad {
		if r := c.Post("/admin/admins", b.form); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Errorf("%v: %d, want %q", b.form, r.StatusCode, b.want)
		}
	}
	if n := testkit.Got(p.Store.CountAdmins(ctx)).Must(t); n != 1 {
		t.Fatalf("bad input added admins: %d", n)
	}
	if r := c.Post("/admin/admins", url.Values{"email": {"New.Admin@example.org"}, "role": {"help_desk"}, "password": {testkit.AdminPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", r.StatusCode)
	}
	added, err := p.Store.AdminByEmail(ctx, "new.admin@example.org")
	if err != nil || added.Role != admin.RoleHelpDesk || added.TOTPSecret != nil {
		t.Fatalf("added: %+v %v", added, err)
	}
	// Never yourself, never the last owner.
	if r := c.Post("/admin/admins/"+owner.Key+"/role", url.Values{"role": {"read_only"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "your own account") {
		t.Fatalf("own role: %d", r.StatusCode)
	}
	if r := c.Post("/admin/admins/"+added.Key+"/role", url.Values{"role": {"owner"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote: %d", r.StatusCode)
	}
	// Two owners now: the new one may demote the first, but then not the last.
	c2 := p.SignIn(t, testkit.TestAdmin{Admin: added, TOTPSecret: ""}.WithSetup(t, p))
	if r := c2.Post("/admin/admins/"+owner.Key+"/role", url.Values{"role": {"administrator"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote the first owner: %d", r.StatusCode)
	}
	if err := p.Admins.ChangeRole(ctx, owner.Admin, added.Key, admin.RoleReadOnly, "127.0.0.1"); err != admin.ErrLastOwner {
		t.Fatalf("demoting the last owner: %v", err)
	}
	if err := p.Admins.Delete(ctx, owner.Admin, added.Key, "127.0.0.1"); err != admin.ErrLastOwner {
		t.Fatalf("deleting the last owner: %v", err)
	}
	// The demoted first owner's session ended at once.
	if r := c.Get("/admin/admins"); r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/signin" {
		t.Fatalf("demoted owner on admins page: %d %s", r.StatusCode, r.Location())
	}
	if r := c2.Post("/admin/admins/"+owner.Key+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := c.Get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleted admin's session still works: %d", r.StatusCode)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetAdmin, owner.Email, 10)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.AdminDeleted, audit.AdminRoleChanged} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("no %s in %v", want, actions)
		}
	}
}

func TestAdminAuditLogFilterPagesAndCSV(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	for i := 0; i < 130; i++ {
		if err := p.Store.InsertAudit(ctx, audit.Entry(p.Clock.Now(), audit.Admin("ops@example.org", "10.0.0.1"), "user.updated", audit.TargetUser, "bulk", nil)); err != nil {
			t.Fatal(err)
		}
	}
	evil := audit.Entry(p.Clock.Now(), audit.Who{Type: audit.ActorUser, Name: "=HYPERLINK(\"http://evil\")"}, "enrollment.started", audit.TargetUser, "+cmd|' /C calc'!A0", map[string]any{"x": 1})
	if err := p.Store.InsertAudit(ctx, evil); err != nil {
		t.Fatal(err)
	}
	// A login decision repeated three times within the window: one row.
	for i := 0; i < 3; i++ {
		e := audit.Entry(p.Clock.Now(), audit.Who{Type: audit.ActorApplication, Name: "VPN"}, audit.AuthEnrollRequired, audit.TargetUser, "looper", nil)
		e.RepeatKey = audit.RepeatKey(e.Action, "enrollment_required", "DIVPN", "looper")
		if err := audit.RecordLogin(ctx, p.Store, e); err != nil {
			t.Fatal(err)
		}
		p.Clock.Advance(time.Minute)
	}
	c, _ := p.SignInAs(t, admin.RoleReadOnly)
	if r := c.Get("/admin/audit?target=looper"); strings.Count(r.Body, "auth.enroll_required") != 1 || !strings.Contains(r.Body, "auth.enroll_required ×3 (latest") {
		t.Fatalf("repeated decision on the audit page:\n%s", r.Body)
	}
	if r := c.Get("/admin/audit.csv?target=looper"); !strings.Contains(r.Body, ",3,"+testkit.Start.Add(2*time.Minute).Format(time.RFC3339)) {
		t.Fatalf("repeated decision in the export:\n%s", r.Body)
	}

	r := c.Get("/admin/audit?actor=ops%40example.org")
	if r.StatusCode != http.StatusOK || strings.Count(r.Body, "ops@example.org") < 100 || !strings.Contains(r.Body, "before=") || strings.Contains(r.Body, "HYPERLINK") {
		t.Fatalf("filtered page: %d", r.StatusCode)
	}
	if !strings.Contains(r.Body, `href="/admin/audit.csv?actor=ops%40example.org"`) {
		t.Fatalf("export link keeps the filter:\n%s", r.Body)
	}
	if r := c.Get("/admin/audit?action=enrollment."); !strings.Contains(r.Body, "enrollment.started") || strings.Contains(r.Body, "user.updated") {
		t.Fatal("action prefix filter")
	}
	day := p.Clock.Now().Format("2006-01-02")
	next := p.Clock.Now().Add(48 * time.Hour).Format("2006-01-02")
	if r := c.Get("/admin/audit?from=" + next); strings.Contains(r.Body, "user.updated") {
		t.Fatal("from filter lets older entries through")
	}
	if r := c.Get("/admin/audit?to=" + day + "&target=bulk"); !strings.Contains(r.Body, "user.updated") {
		t.Fatal("to filter drops the day itself")
	}
	if r := c.Get("/admin/audit?from=yesterday"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "YYYY-MM-DD") {
		t.Fatalf("bad date: %d", r.StatusCode)
	}

	export := c.Get("/admin/audit.csv")
	if export.StatusCode != http.StatusOK || !strings.HasPrefix(export.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", export.StatusCode, export.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(export.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 1+131 {
		t.Fatalf("%d rows exported", len(rows))
	}
	found := false
	for _, row := range rows[1:] {
		if strings.Contains(row[3], "HYPERLINK") {
			found = true
			if row[3] != `'=HYPERLINK("http://evil")` || row[6] != `'+cmd|' /C calc'!A0` {
				t.Fatalf("formula not neutralised: %q", row)
			}
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q starts a formula", cell)
			}
		}
	}
	if !found {
		t.Fatal("the crafted entry is not in the export")
	}
}
