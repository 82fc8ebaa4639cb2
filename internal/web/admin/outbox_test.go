package admin_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestAdminOutboxHidesBodiesAndRetries(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	u := addUser(t, p, "lena", "lena@example.org", "")
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	c.Get("/admin/users/" + u.Key)
	if r := c.Post("/admin/users/"+u.Key+"/enrollment-email", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", r.StatusCode)
	}
	msgs := testkit.OutboxMessages(t, p)
	link := enrollLinkRe.FindString(msgs[0].BodyText)
	if link == "" {
		t.Fatal("no link in the message")
	}
	page := c.Get("/admin/outbox")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "email: lena@example.org") || !strings.Contains(page.Body, "Email delivery is not set up") {
		t.Fatalf("outbox page: %d\n%s", page.StatusCode, page.Body)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	if strings.Contains(page.Body, token) {
		t.Fatal("the outbox page shows an enrollment link")
	}
	if r := c.Get("/admin/outbox?status=sent"); strings.Contains(r.Body, "lena@example.org") {
		t.Fatal("status filter lets a pending message through")
	}

	// A failed message can be tried again; a sent one cannot.
	id := msgs[0].ID
	if _, err := p.Store.SQL().ExecContext(ctx, `UPDATE outbox SET status = 'failed', attempts = 8, last_error = 'mailbox full' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	// The button's accessible name starts with its visible text (axe's
	// label-content-name-mismatch), and still says which message.
	if r := c.Get("/admin/outbox?status=failed"); !strings.Contains(r.Body, "mailbox full") || !strings.Contains(r.Body, `aria-label="Try again now: the message to `) {
		t.Fatal("failed message not listed with its error and a retry button")
	}
	if r := c.Post("/admin/outbox/"+strconv.FormatInt(id, 10)+"/retry", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", r.StatusCode)
	}
	m, _ := p.Store.MessageByID(ctx, id)
	if m.Status != store.MessagePending || m.Attempts != 0 {
		t.Fatalf("after retry: %+v", m)
	}
	if _, err := p.Store.SQL().ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = 1 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	c.Get("/admin/outbox")
	c.Post("/admin/outbox/"+strconv.FormatInt(id, 10)+"/retry", nil)
	if r := c.Get("/admin/outbox"); !strings.Contains(r.Body, "already sent") {
		t.Fatal("retrying a sent message is not refused")
	}
	if m, _ := p.Store.MessageByID(ctx, id); m.Status != store.MessageSent {
		t.Fatalf("a sent message was reset: %+v", m)
	}
	if e := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetMessage, strconv.FormatInt(id, 10), 5)).Must(t); len(e) != 1 || e[0].Action != audit.MessageRetried {
		t.Fatalf("audit: %+v", e)
	}
}
