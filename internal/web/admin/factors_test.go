package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

var bypassCodeRe = regexp.MustCompile(`(?m)^\d{9}$`)

func TestAdminBypassCodesShownOnceCountedAndCleared(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	gina := addUser(t, p, "gina", "gina@example.org", "Gina")
	c, _ := p.SignInAs(t, admin.RoleUserManager)

	page := c.Get("/admin/users/" + gina.Key)
	if !strings.Contains(page.Body, "Make bypass codes") || !strings.Contains(page.Body, `<option value="24" selected>24 hours</option>`) {
		t.Fatalf("user page lacks the bypass code form:\n%s", page.Body)
	}
	// Out of range: a clear error, nothing made.
	r := c.Post("/admin/users/"+gina.Key+"/bypass-codes", url.Values{"count": {"11"}, "uses": {"1"}, "valid": {"24"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Choose 1 to 10 codes") {
		t.Fatalf("11 codes: %d\n%s", r.StatusCode, r.Body)
	}
	if codes, _ := p.Store.BypassCodesByUser(ctx, gina.ID); len(codes) != 0 {
		t.Fatalf("a refused request made %d codes", len(codes))
	}

	r = c.Post("/admin/users/"+gina.Key+"/bypass-codes", url.Values{"count": {"3"}, "uses": {"2"}, "valid": {"never"}})
	shown := bypassCodeRe.FindAllString(r.Body, -1)
	if r.StatusCode != http.StatusOK || len(shown) != 3 || r.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(r.Body, "works 2 times") || !strings.Contains(r.Body, "does not expire") ||
		!strings.Contains(r.Body, `data-copy-exact="bypass-codes"`) || !strings.Contains(r.Body, "data-print") {
		t.Fatalf("codes page: %d %v\n%s", r.StatusCode, r.Header, r.Body)
	}
	stored, _ := p.Store.BypassCodesByUser(ctx, gina.ID)
	if len(stored) != 3 {
		t.Fatalf("%d codes stored", len(stored))
	}
	for _, b := range stored {
		for _, code := range shown {
			if strings.Contains(string(b.CodeHash), code) {
				t.Fatal("a code is stored in the clear")
			}
		}
	}
	// The user page counts them and never shows them again.
	page = c.Get("/admin/users/" + gina.Key)
	if !strings.Contains(page.Body, "3 codes left (6 uses in all)") || strings.Contains(page.Body, shown[0]) {
		t.Fatalf("user page after issuing:\n%s", page.Body)
	}
	r = c.Post("/admin/users/"+gina.Key+"/bypass-codes/clear", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", r.StatusCode)
	}
	if stored, _ := p.Store.BypassCodesByUser(ctx, gina.ID); len(stored) != 0 {
		t.Fatalf("%d codes left after clear", len(stored))
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "gina", 20)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{audit.BypassCodesCreated, audit.BypassCodesCleared} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestAdminResetSendsALinkThatAddsTheNextDevice(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	hal := addUser(t, p, "hal", "hal@example.org", "Hal")
	ph := store.Phone{Key: "DPHAL0000000000000000", Type: store.PhoneTablet, Platform: store.PlatformAndroid,
		TOTPSecret: []byte("sealed"), Activated: true, CreatedAt: p.Clock.Now()}
	if err := p.Store.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.AttachPhone(ctx, hal.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	if page := c.Get("/admin/users/" + hal.Key); !strings.Contains(page.Body, "Reset: next device allowed") {
		t.Fatalf("no reset button for an enrolled user:\n%s", page.Body)
	}
	r := c.Post("/admin/users/"+hal.Key+"/reset", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", r.StatusCode, r.Body)
	}
	l, err := p.Store.PendingLinkOfUser(ctx, hal.ID, p.Clock.Now())
	if err != nil || !l.Reset {
		t.Fatalf("pending link after the reset: %+v, %v", l, err)
	}
	var sent bool
	for _, m := range testkit.OutboxMessages(t, p) {
		sent = sent || (m.Recipient == "hal@example.org" && strings.Contains(m.BodyText, "/enroll/"))
	}
	if !sent {
		t.Fatal("no reset email in the outbox")
	}
	// A user without an address: the page says why, nothing is issued
	// or queued.
	nomail := addUser(t, p, "nomail", "", "")
	c.Get("/admin/users/" + nomail.Key)
	queued := len(testkit.OutboxMessages(t, p))
	r = c.Post("/admin/users/"+nomail.Key+"/reset", nil)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "has no valid email address, so no reset was sent") {
		t.Fatalf("reset without email: %d\n%s", r.StatusCode, r.Body)
	}
	if _, err := p.Store.PendingLinkOfUser(ctx, nomail.ID, p.Clock.Now()); !errors.Is(err, store.ErrNotFound) || len(testkit.OutboxMessages(t, p)) != queued {
		t.Fatalf("a link or message was made for a user without email: %v", err)
	}
	// Help desk admins may not issue resets.
	hd, _ := p.SignInAs(t, admin.RoleHelpDesk)
	hd.Get("/admin/users/" + hal.Key)
	if r := hd.Post("/admin/users/"+hal.Key+"/reset", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("help desk reset: %d", r.StatusCode)
	}
}
