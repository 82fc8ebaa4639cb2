package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/importer"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

var admin = audit.Who{Type: audit.ActorAdmin, Name: "owner@example.com", IP: "127.0.0.1"}

func newImporter(t *testing.T) (*testkit.Portal, *importer.Service) {
	t.Helper()
	p := testkit.New(t)
	return p, importer.New(p.Store, p.Clock, p.Jobs)
}

func apply(t *testing.T, svc *importer.Service, mode importer.Mode, csv string) importer.Summary {
	t.Helper()
	sum, err := svc.Apply(context.Background(), strings.NewReader(csv), mode, admin)
	if err != nil {
		t.Fatalf("apply: %v (errors %+v)", err, sum.Errors)
	}
	return sum
}

func TestImportCreatesUsersWithPhonesGroupsAndAliases(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	csv := "Email,USERNAME,realname,alias1,status,notes,phone1,platform1,type1,phone2,type2,group1,group2\n" +
		"alice@example.com,Alice,Alice Liddell,ali,bypass,VIP,(201) 555-0123,iPhone,mobile,+44 20 7946 0958,landline,Sales,Staff\n" +
		"bob@example.com,bob,Bob,,,,+1 201-555-0123,,,,,Staff,\n" +
		"carol@example.com,carol,,,,,,android,tablet,,,,\n"
	sum := apply(t, svc, importer.ModeUpsert, csv)
	if sum.Create != 3 || sum.Update != 0 || sum.NewPhones != 3 || strings.Join(sum.NewGroups, ",") != "Sales,Staff" {
		t.Fatalf("summary %+v", sum)
	}
	alice, err := p.Store.UserByUsername(ctx, "alice")
	if err != nil || alice.RealName != "Alice Liddell" || alice.Status != store.StatusBypass || alice.Notes != "VIP" {
		t.Fatalf("alice %+v %v", alice, err)
	}
	if byAlias, err := p.Store.UserByAlias(ctx, "ali"); err != nil || byAlias.ID != alice.ID {
		t.Fatalf("alias: %+v %v", byAlias, err)
	}
	phones, _ := p.Store.PhonesByUser(ctx, alice.ID)
	if len(phones) != 2 || phones[0].Number != "+12015550123" || phones[0].Platform != store.PlatformIOS ||
		phones[1].Number != "+442079460958" || phones[1].Type != store.PhoneLandline || phones[1].Platform != store.PlatformUnknown {
		t.Fatalf("alice phones %+v", phones)
	}
	bob, _ := p.Store.UserByUsername(ctx, "bob")
	bobPhones, _ := p.Store.PhonesByUser(ctx, bob.ID)
	if len(bobPhones) != 1 || bobPhones[0].ID != phones[0].ID || bobPhones[0].Platform != store.PlatformIOS {
		t.Fatalf("bob should share alice's mobile and keep its platform: %+v", bobPhones)
	}
	carol, _ := p.Store.UserByUsername(ctx, "carol")
	carolPhones, _ := p.Store.PhonesByUser(ctx, carol.ID)
	if len(carolPhones) != 1 || carolPhones[0].Type != store.PhoneTablet || carolPhones[0].Platform != store.PlatformAndroid {
		t.Fatalf("carol %+v", carolPhones)
	}
	groups, _ := p.Store.GroupsOfUser(ctx, alice.ID)
	if len(groups) != 2 {
		t.Fatalf("alice groups %+v", groups)
	}
	if a := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 10)).Must(t); len(a) == 0 || a[len(a)-1].Action != audit.UserCreated {
		t.Fatalf("alice audit %+v", a)
	}

	// The same file again changes nothing and creates nothing.
	again := apply(t, svc, importer.ModeUpsert, csv)
	if again.Create != 0 || again.Update != 3 || again.NewPhones != 0 || len(again.NewGroups) != 0 {
		t.Fatalf("second import %+v", again)
	}
}

func TestImportUpdatesByAlias(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	apply(t, svc, importer.ModeUpsert, "username,alias1,email\nalice,a.liddell,alice@example.com\n")
	sum := apply(t, svc, importer.ModeUpsert, "username,realname,email,phone1,platform1\nA.Liddell,Alice L,new@example.com,2015550199,smartphone\n")
	if sum.Update != 1 || sum.Create != 0 {
		t.Fatalf("summary %+v", sum)
	}
	u, _ := p.Store.UserByUsername(ctx, "alice")
	if u.RealName != "Alice L" || u.Email != "new@example.com" {
		t.Fatalf("alice %+v", u)
	}
	phones, _ := p.Store.PhonesByUser(ctx, u.ID)
	if len(phones) != 1 || phones[0].Platform != store.PlatformGeneric || phones[0].Type != store.PhoneMobile {
		t.Fatalf("phones %+v", phones)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 1)
	if len(entries) != 1 || entries[0].Action != audit.UserUpdated || !strings.Contains(entries[0].Details, "realname") {
		t.Fatalf("audit %+v", entries)
	}
}

func TestImportReportsEveryBadLineAndAppliesNothing(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	apply(t, svc, importer.ModeUpsert, "username,alias1\ntaken,taken-alias\n")
	before, _ := p.Store.CountUsers(ctx)
	csv := "username,email,status,alias1,phone1,platform1,type1\n" +
		"good,good@example.com,,,,,\n" + // 2
		"bad user,x@example.com,,,,,\n" + // 3
		"erin,not-an-email,,,,,\n" + // 4
		"gina,,locked_out,,,,\n" + // 5
		"GOOD,,,,,,\n" + // 6
		"hank,,,taken-alias,,,\n" + // 7
		"ivan,,,,12,,\n" + // 8
		"jane,,,,2015550100,blackberry,\n" + // 9
		"kate,,,,2015550100,,tablet\n" + // 10
		"leo,,,,,,fax\n" + // 11
		",,,,,,\n" + // 12
		"mia,,,,,,,extra\n" // 13
	sum, err := svc.Apply(ctx, strings.NewReader(csv), importer.ModeUpsert, admin)
	if !errors.Is(err, importer.ErrHasErrors) {
		t.Fatalf("err = %v", err)
	}
	want := map[int]string{
		3: "username", 4: "email", 5: "status", 6: "already on line 2", 7: "alias1 taken-alias is already",
		8: "not a valid phone number", 9: "platform1", 10: "tablet has no phone number", 11: "type1",
		12: "username is empty", 13: "8 values",
	}
	if sum.ErrorCount != len(want) {
		t.Fatalf("errors %d: %+v", sum.ErrorCount, sum.Errors)
	}
	for _, e := range sum.Errors {
		if !strings.Contains(e.Reason, want[e.Line]) || want[e.Line] == "" {
			t.Errorf("line %d: %q, want %q", e.Line, e.Reason, want[e.Line])
		}
	}
	if after := testkit.Got(p.Store.CountUsers(ctx)).Must(t); after != before {
		t.Fatalf("users %d -> %d: a file with errors changed something", before, after)
	}
}

func TestImportHeaderErrors(t *testing.T) {
	_, svc := newImporter(t)
	for _, tt := range []struct{ csv, want string }{
		{"", "empty"},
		{"email,realname\nx@example.com,X\n", "no username column"},
		{"username,favourite colour\nx,blue\n", "unknown column"},
		{"username,alias5\nx,y\n", "out of range"},
		{"username,email,Email\nx,a,b\n", "twice"},
	} {
		sum, err := svc.Preview(context.Background(), strings.NewReader(tt.csv), importer.ModeUpsert)
		if err != nil || sum.ErrorCount != 1 || sum.Errors[0].Line != 1 || !strings.Contains(sum.Errors[0].Reason, tt.want) {
			t.Errorf("%q: %+v %v, want line 1 %q", tt.csv, sum, err, tt.want)
		}
	}
}

func TestImportDeleteMode(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	apply(t, svc, importer.ModeUpsert, "username,alias1,phone1\nalice,ali,2015550123\nbob,,2015550123\ncarol,,2015550124\n")
	sum, err := svc.Apply(ctx, strings.NewReader("username\nali\nnobody\n"), importer.ModeDelete, admin)
	if !errors.Is(err, importer.ErrHasErrors) || sum.ErrorCount != 1 || sum.Errors[0].Line != 3 {
		t.Fatalf("%+v %v", sum, err)
	}
	sum = apply(t, svc, importer.ModeDelete, "username\nali\ncarol\n")
	if sum.Delete != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if _, err := p.Store.PhoneByNumber(ctx, "+12015550124", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("carol's own phone outlived her: %v", err)
	}
	if _, err := p.Store.UserByUsername(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alice still there: %v", err)
	}
	bob, _ := p.Store.UserByUsername(ctx, "bob")
	if phones := testkit.Got(p.Store.PhonesByUser(ctx, bob.ID)).Must(t); len(phones) != 1 {
		t.Fatalf("bob's shared phone went with alice: %+v", phones)
	}
	if e := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 1)).Must(t); len(e) != 1 || e[0].Action != audit.UserDeleted {
		t.Fatalf("audit %+v", e)
	}
}

func TestPlatformNames(t *testing.T) {
	for in, want := range map[string]string{
		"iphone": store.PlatformIOS, "IPhone": store.PlatformIOS, "ANDROID": store.PlatformAndroid,
		"Smartphone": store.PlatformGeneric, "generic  smartphone": store.PlatformGeneric,
	} {
		if got, ok := importer.Platform(in); !ok || got != want {
			t.Errorf("%q -> %q %v", in, got, ok)
		}
	}
	if _, ok := importer.Platform("blackberry"); ok {
		t.Error("blackberry accepted")
	}
}

func TestApplySkipsTheLinesTheDatabaseRefusesSinceTheCheck(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	plan, sum, err := svc.Check(ctx, strings.NewReader("username,group1\nalice,Staff\nbob,Staff\ncarol,Staff\n"), importer.ModeUpsert)
	if err != nil || sum.ErrorCount != 0 || sum.Create != 3 || plan == "" {
		t.Fatalf("check %+v %v", sum, err)
	}
	// Someone creates bob between the check and the apply.
	bob, err := p.Users.Create(ctx, users.NewUser{Username: "bob"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	sum, err = svc.ApplyPlan(ctx, plan, admin)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(sum.Skipped) != 1 || sum.Skipped[0].Line != 3 || !strings.Contains(sum.Skipped[0].Reason, "bob was created meanwhile") {
		t.Fatalf("skipped %+v", sum.Skipped)
	}
	// The other lines are applied, exactly once; bob is left as he was.
	staff, err := p.Store.GroupByName(ctx, "Staff")
	if err != nil {
		t.Fatal(err)
	}
	var members int
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM user_groups WHERE group_id = ?`, staff.ID).Scan(&members)
	if members != 2 {
		t.Fatalf("%d members of Staff, want alice and carol", members)
	}
	if groups := testkit.Got(p.Store.GroupsOfUser(ctx, bob.ID)).Must(t); len(groups) != 0 {
		t.Fatalf("bob's line was applied: %+v", groups)
	}
	if n := planRows(t, p); n != 0 {
		t.Fatalf("%d plan rows kept after the apply", n)
	}
	// A file with errors leaves no plan behind, even when its valid lines
	// fill chunks before the first error.
	var bad strings.Builder
	bad.WriteString("username\n")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&bad, "fine%04d\n", i)
	}
	bad.WriteString("bad user\n")
	if id, sum, err := svc.Check(ctx, strings.NewReader(bad.String()), importer.ModeUpsert); err != nil || sum.ErrorCount != 1 || id != "" {
		t.Fatalf("bad file %q %+v %v", id, sum, err)
	}
	if n := planRows(t, p); n != 0 {
		t.Fatalf("%d plan rows kept for a file with errors", n)
	}
}

// planRows counts the rows of every import plan in the database: plans and
// their chunks.
func planRows(t *testing.T, p *testkit.Portal) int {
	t.Helper()
	return testkit.Count(t, p, `SELECT (SELECT COUNT(*) FROM import_plans) + (SELECT COUNT(*) FROM import_plan_chunks)`)
}

// A checked file's plan is applied once, however often "apply" comes; a
// plan that waited more than PlanTTL is no longer applied, and the next
// check removes it; a plan the admin replaced is dropped.
func TestPlanIsAppliedOnceAndExpires(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	check := func(csv string) string {
		t.Helper()
		id, sum, err := svc.Check(ctx, strings.NewReader(csv), importer.ModeUpsert)
		if err != nil || sum.ErrorCount != 0 || id == "" {
			t.Fatalf("check %+v %v", sum, err)
		}
		return id
	}
	id := check("username\nalice\n")
	if sum, err := svc.ApplyPlan(ctx, id, admin); err != nil || sum.Create != 1 {
		t.Fatalf("apply %+v %v", sum, err)
	}
	if _, err := svc.ApplyPlan(ctx, id, admin); !errors.Is(err, importer.ErrPlanGone) {
		t.Fatalf("second apply of the same plan: %v", err)
	}
	for _, id := range []string{"", "not-a-plan"} {
		if _, err := svc.StartApply(ctx, id, "users.csv", admin); !errors.Is(err, importer.ErrPlanGone) {
			t.Fatalf("apply of plan %q: %v", id, err)
		}
	}

	late := check("username\nbob\n")
	p.Clock.Advance(importer.PlanTTL + time.Minute)
	if _, err := svc.ApplyPlan(ctx, late, admin); !errors.Is(err, importer.ErrPlanGone) {
		t.Fatalf("apply after %v: %v", importer.PlanTTL, err)
	}
	if _, err := p.Store.UserByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired plan was applied: %v", err)
	}
	replaced := check("username\ncarol\n")
	if n := testkit.Count(t, p, `SELECT COUNT(*) FROM import_plans`); n != 1 {
		t.Fatalf("%d plans after the check that sweeps, want the new one only", n)
	}
	if err := svc.DropPlan(ctx, replaced); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyPlan(ctx, replaced, admin); !errors.Is(err, importer.ErrPlanGone) || planRows(t, p) != 0 {
		t.Fatalf("a dropped plan: %v, %d rows kept", err, planRows(t, p))
	}
}

// An import job whose plan rows are gone (removed by hand, or lost with a
// restored backup) fails with a sentence that says so, after applying the
// rows it still had, and leaves no plan rows behind.
func TestJobWhosePlanIsGoneFailsClearly(t *testing.T) {
	p, svc := newImporter(t)
	p.StopJobRunner()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("username\n")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "gone%04d\n", i)
	}
	id, sum, err := svc.Check(ctx, strings.NewReader(b.String()), importer.ModeUpsert)
	if err != nil || sum.Create != 600 {
		t.Fatalf("check %+v %v", sum, err)
	}
	if n := testkit.Count(t, p, `SELECT COUNT(*) FROM import_plan_chunks`); n != 3 {
		t.Fatalf("%d chunks for 600 rows, want 3 of up to 250", n)
	}
	jobID, err := svc.StartApply(ctx, id, "users.csv", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Store.SQL().Exec(`DELETE FROM import_plan_chunks WHERE seq > 0`); err != nil {
		t.Fatal(err)
	}
	j, err := p.Jobs.Finish(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobFailed || j.Cursor != 250 ||
		!strings.Contains(j.LastError, "the plan of this import is no longer in the database (rows from 251 on are missing)") {
		t.Fatalf("job %s at %d: %q", j.Status, j.Cursor, j.LastError)
	}
	if n := testkit.Count(t, p, `SELECT COUNT(*) FROM users`); n != 250 {
		t.Fatalf("%d users, want the first chunk's 250", n)
	}
	if n := planRows(t, p); n != 0 {
		t.Fatalf("%d plan rows kept after the job failed", n)
	}
}

func TestImportAcrossBatchesSharesPhones(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("username,phone1,platform1,group1\n")
	const n = 1203 // more than two batches
	for i := 0; i < n; i++ {
		// Lines i and i+1 (i even) share a number; pair 250 straddles the
		// first batch boundary.
		fmt.Fprintf(&b, "user%04d,+1 201 555 %04d,android,G%d\n", i, i/2, i%3)
	}
	sum := apply(t, svc, importer.ModeUpsert, b.String())
	if sum.Create != n || sum.NewPhones != (n+1)/2 || len(sum.NewGroups) != 3 {
		t.Fatalf("summary %+v", sum)
	}
	var phones, links int
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM phones`).Scan(&phones)
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM user_phones`).Scan(&links)
	if phones != (n+1)/2 || links != n {
		t.Fatalf("%d phones, %d links", phones, links)
	}
	u500, _ := p.Store.UserByUsername(ctx, "user0500")
	u501, _ := p.Store.UserByUsername(ctx, "user0501")
	a, _ := p.Store.PhonesByUser(ctx, u500.ID)
	c, _ := p.Store.PhonesByUser(ctx, u501.ID)
	if len(a) != 1 || len(c) != 1 || a[0].ID != c[0].ID || a[0].Number != "+12015550250" {
		t.Fatalf("users across the batch boundary do not share the phone: %+v %+v", a, c)
	}
	var audits int
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'user.created'`).Scan(&audits)
	if audits != n {
		t.Fatalf("%d user.created audit records, want %d", audits, n)
	}
	// The same file again: nothing new.
	again := apply(t, svc, importer.ModeUpsert, b.String())
	if again.Update != n || again.NewPhones != 0 {
		t.Fatalf("second import %+v", again)
	}
}

func TestImportRefusesNULAndInvalidUTF8(t *testing.T) {
	p, svc := newImporter(t)
	ctx := context.Background()
	csv := "username,realname,notes,group1\n" +
		"amy,Amy\x00Pond,,\n" + // 2
		"ben,Caf\xe9,,\n" + // 3
		"cat,,a\x00b,\n" + // 4
		"dan,,\xff,\n" + // 5
		"eve,,,Sta\xe9ff\n" + // 6
		"fay,Fay,ok,Staff\n" // 7
	sum, err := svc.Apply(ctx, strings.NewReader(csv), importer.ModeUpsert, admin)
	if !errors.Is(err, importer.ErrHasErrors) {
		t.Fatalf("err = %v", err)
	}
	want := map[int]string{
		2: "realname field contains a NUL", 3: "realname field is not valid UTF-8",
		4: "notes field contains a NUL", 5: "notes field is not valid UTF-8", 6: "group name field is not valid UTF-8",
	}
	if sum.ErrorCount != len(want) {
		t.Fatalf("errors %d: %+v", sum.ErrorCount, sum.Errors)
	}
	for _, e := range sum.Errors {
		if want[e.Line] == "" || !strings.Contains(e.Reason, want[e.Line]) {
			t.Errorf("line %d: %q, want %q", e.Line, e.Reason, want[e.Line])
		}
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("a file with refused text created %d users", n)
	}
}
