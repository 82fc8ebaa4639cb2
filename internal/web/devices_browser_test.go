package web_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/testkit"
)

var shownCode = regexp.MustCompile(`(?m)^(\d{9})$`)

// TestBrowserDevicesLostPhone walks the lost-phone story: the help desk
// issues a bypass code and a reset; the user signs in to the device page
// with the bypass code, removes the lost phone, adds the new one by QR,
// and the old phone's codes stop working.
func TestBrowserDevicesLostPhone(t *testing.T) {
	p := testkit.Serve(t)
	_, oldQR := enrollAlicePhone(t, p)
	ctx := context.Background()
	alice, _ := p.Store.UserByUsername(ctx, "alice")

	// The help desk, on alice's page.
	hd, _ := p.SignInAs(t, admin.RoleUserManager)
	hd.Get("/admin/users/" + alice.Key)
	r := hd.Post("/admin/users/"+alice.Key+"/bypass-codes", url.Values{"count": {"1"}, "uses": {"1"}, "valid": {"24"}})
	m := shownCode.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no bypass code shown:\n%s", r.Body)
	}
	bypass := m[1]
	hd.Get("/admin/users/" + alice.Key)
	if r := hd.Post("/admin/users/"+alice.Key+"/reset", nil); r.StatusCode != 303 {
		t.Fatalf("reset: %d", r.StatusCode)
	}

	// Alice, on her new phone's browser.
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.Visit("/my-devices")
	b.SendKeys("#username", "alice")
	b.Submit("#username")
	if got := b.Text("h1"); got != "Confirm it's you" {
		t.Fatalf("proof step heading %q", got)
	}
	b.SendKeys("#code", bypass)
	b.Submit("#code")
	if got := b.Text("h1"); got != "Your devices" || !strings.Contains(b.Text("ul.devices"), "Mobile phone") {
		t.Fatalf("device page %q lists %q", got, b.Text("ul.devices"))
	}
	b.ClickAndWait(`form[action="/my-devices/remove"] button`)
	if !strings.Contains(b.Text(".notice"), "was removed") {
		t.Fatalf("after removing: %q", b.Text("main"))
	}
	b.ClickAndWait(`form[action="/my-devices/add"] button`)
	otpauth := testkit.EnrollMobileByQR(t, b, "201 555 0199", "Google Android", p.Clock.Now())
	if list := b.Text("ul.factors"); !strings.Contains(list, "Google Android") || strings.Contains(list, "Apple iOS") {
		t.Fatalf("devices after the swap: %q", list)
	}

	// The old phone's codes no longer work; the new one's do.
	p.Clock.Advance(30 * time.Second)
	who := audit.Who{Type: audit.ActorUser, Name: "alice"}
	if _, err := p.Enroll.ProveByName(ctx, "alice", codeAt(t, oldQR, p.Clock.Now()), who); !errors.Is(err, enroll.ErrNotProved) {
		t.Fatalf("old phone's code: %v, want refused", err)
	}
	if _, err := p.Enroll.ProveByName(ctx, "alice", testkit.TOTPNow(t, otpauth, p.Clock.Now()), who); err != nil {
		t.Fatalf("new phone's code: %v", err)
	}
}
