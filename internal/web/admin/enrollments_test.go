package admin_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

var enrollLinkRe = regexp.MustCompile(`http://localhost/enroll/[A-Za-z0-9_-]+`)

func TestAdminSendResendAndDeleteEnrollment(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	frank := addUser(t, p, "frank", "frank@example.org", "Frank")
	nomail := addUser(t, p, "nomail", "", "")
	c, a := p.SignInAs(t, admin.RoleUserManager)

	// No address: a clear error, nothing issued or queued.
	c.Get("/admin/users/" + nomail.Key)
	r := c.Post("/admin/users/"+nomail.Key+"/enrollment-email", nil)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "has no valid email address") {
		t.Fatalf("no email: %d", r.StatusCode)
	}
	if _, err := p.Store.PendingLinkOfUser(ctx, nomail.ID, p.Clock.Now()); err != store.ErrNotFound || len(testkit.OutboxMessages(t, p)) != 0 {
		t.Fatalf("a link or message was made for a user without email: %v", err)
	}

	// Send: one link, one email to the user's address, in the outbox.
	r = c.Post("/admin/users/"+frank.Key+"/enrollment-email", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d\n%s", r.StatusCode, r.Body)
	}
	msgs := testkit.OutboxMessages(t, p)
	if len(msgs) != 1 || msgs[0].Recipient != "frank@example.org" || msgs[0].Channel != store.ChannelEmail {
		t.Fatalf("outbox after send: %+v", msgs)
	}
	link := enrollLinkRe.FindString(msgs[0].BodyText)
	if link == "" {
		t.Fatalf("no link in %q", msgs[0].BodyText)
	}
	pending, err := p.Store.PendingLinkOfUser(ctx, frank.ID, p.Clock.Now())
	if err != nil || pending.SentAt == nil {
		t.Fatalf("pending link: %+v %v", pending, err)
	}
	if page := c.Get("/admin/users/" + frank.Key); !strings.Contains(page.Body, "was queued for sending") {
		t.Fatal("no confirmation on the user page")
	}

	// The pending list shows it; resend sends the SAME link and expiry to
	// the CURRENT address.
	list := c.Get("/admin/enrollments")
	if !strings.Contains(list.Body, ">frank<") || !strings.Contains(list.Body, "frank@example.org") {
		t.Fatalf("pending list:\n%s", list.Body)
	}
	if err := p.Store.UpdateUser(ctx, store.User{ID: frank.ID, RealName: "Frank", Email: "frank.new@example.org", Status: store.StatusActive, UpdatedAt: p.Clock.Now()}, true); err != nil {
		t.Fatal(err)
	}
	p.Clock.Advance(20 * time.Minute) // later, within the admin's idle timeout
	idPath := "/admin/enrollments/" + itoa64(pending.ID)
	if r := c.Post(idPath+"/resend", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", r.StatusCode)
	}
	msgs = testkit.OutboxMessages(t, p)
	if len(msgs) != 2 || msgs[0].Recipient != "frank.new@example.org" || enrollLinkRe.FindString(msgs[0].BodyText) != link {
		t.Fatalf("resend: %d messages, newest to %s with %q (want %s)", len(msgs), msgs[0].Recipient, enrollLinkRe.FindString(msgs[0].BodyText), link)
	}
	again, _ := p.Store.EnrollmentLinkByID(ctx, pending.ID)
	if !again.ExpiresAt.Equal(pending.ExpiresAt) || again.RevokedAt != nil {
		t.Fatalf("resend changed the link: %+v", again)
	}

	// Resend all: every pending link with an address; users without one are
	// counted.
	bob := addUser(t, p, "bob", "bob@example.org", "")
	if _, err := p.Enroll.IssueLink(ctx, "bob", 0, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.IssueLink(ctx, "nomail", 0, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	c.Get("/admin/enrollments")
	if r := c.Post("/admin/enrollments/resend-all", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend all: %d", r.StatusCode)
	}
	if page := c.Get("/admin/enrollments"); !strings.Contains(page.Body, "Sent 2 pending enrollment links again. 1 users have no valid email address") {
		t.Fatalf("resend-all summary:\n%s", page.Body)
	}
	if msgs = testkit.OutboxMessages(t, p); len(msgs) != 4 {
		t.Fatalf("%d messages after resend all", len(msgs))
	}
	_ = bob

	// Delete: the link stops working at once (410), the user stays.
	c.Get("/admin/enrollments")
	if r := c.Post(idPath+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := testkit.NewClient(t, p).Get(strings.TrimPrefix(link, "http://localhost")); r.StatusCode != http.StatusGone {
		t.Fatalf("deleted link answered %d", r.StatusCode)
	}
	if _, err := p.Store.UserByID(ctx, frank.ID); err != nil {
		t.Fatalf("user gone with the enrollment: %v", err)
	}
	if r := c.Post(idPath+"/resend", nil); r.StatusCode != http.StatusSeeOther || len(testkit.OutboxMessages(t, p)) != 4 {
		t.Fatalf("resending a deleted enrollment: %d", r.StatusCode)
	}
	if page := c.Get("/admin/enrollments"); !strings.Contains(page.Body, "no longer pending") || strings.Contains(page.Body, ">frank<") {
		t.Fatal("deleted enrollment still listed, or no notice")
	}
	for _, e := range must(p.Store.AuditForTarget(ctx, audit.TargetUser, "frank", 20)) {
		if e.ActorType == audit.ActorAdmin && (e.Actor != a.Email || e.IP == "") {
			t.Errorf("audit entry without the admin or address: %+v", e)
		}
	}
}

func TestHelpDeskSendsOnlyWhenAllowed(t *testing.T) {
	p := testkit.New(t)
	u := addUser(t, p, "gina", "gina@example.org", "")
	c, _ := p.SignInAs(t, admin.RoleHelpDesk)
	c.Get("/admin/users/" + u.Key)
	if r := c.Post("/admin/users/"+u.Key+"/enrollment-email", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("help desk without the setting: %d", r.StatusCode)
	}
	if len(testkit.OutboxMessages(t, p)) != 0 {
		t.Fatal("a refused send queued a message")
	}
	may := true
	p.SaveSettings(t, org.Change{HelpDeskMaySend: &may})
	if r := c.Post("/admin/users/"+u.Key+"/enrollment-email", nil); r.StatusCode != http.StatusSeeOther || len(testkit.OutboxMessages(t, p)) != 1 {
		t.Fatalf("help desk with the setting: %d", r.StatusCode)
	}
}

func TestAdminDashboardFigures(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	u1 := addUser(t, p, "henry", "h@example.org", "")
	addUser(t, p, "iris", "i@example.org", "")
	ph := store.Phone{Key: "DPTEST00000000000001", Number: "+15550001", Type: store.PhoneMobile, Platform: store.PlatformIOS, CreatedAt: p.Clock.Now()}
	if err := p.Store.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.AttachPhone(ctx, u1.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.IssueLink(ctx, "iris", 0, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	c, _ := p.SignInAs(t, admin.RoleReadOnly)
	r := c.Get("/admin")
	for _, want := range []string{"<dt>Users</dt><dd>2</dd>", "<dt>Enrolled</dt><dd>0</dd>", "<dt>Partially enrolled</dt><dd>2</dd>",
		`<a href="/admin/enrollments">1</a>`, "1 user has a smartphone or tablet", `href="/admin/activation"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if err := p.Store.ActivatePhone(ctx, ph.ID, []byte("sealed"), 1, p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	r = c.Get("/admin")
	if !strings.Contains(r.Body, "<dt>Enrolled</dt><dd>1</dd>") || strings.Contains(r.Body, "/admin/activation") {
		t.Errorf("after activation:\n%s", r.Body)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
