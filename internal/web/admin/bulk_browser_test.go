package admin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// catchUpToWallClock moves the portal's fake clock forward to the wall
// clock, never back. Duo's Node client signs its assertions with the wall
// clock, and the browser steps before it can outlast the portal's 60 s
// leeway on a loaded machine; moving back would end the admin session that
// browserSignIn started on a clock it had advanced.
func catchUpToWallClock(p *testkit.Portal) {
	if wall := time.Now(); wall.After(p.Clock.Now()) {
		p.Clock.Set(wall)
	}
}

// browserSignIn signs an admin with role in through the sign-in pages.
func browserSignIn(t *testing.T, p *testkit.Portal, b *testkit.Browser, role string) testkit.TestAdmin {
	t.Helper()
	a := p.AddAdmin(t, role)
	b.Visit("/admin/signin")
	b.SetValue("#email", a.Email)
	b.SetValue("#password", testkit.AdminPassword)
	b.ClickAndWait("main button[type=submit]")
	p.Clock.Advance(30 * time.Second)
	// The code field submits itself at six digits, as a person sees it.
	b.SendKeys("#code", a.Code(t, p.Clock.Now()))
	b.WaitNotPresent("#code")
	if got := b.Text("h1"); got != "Dashboard" {
		t.Fatalf("after sign-in: %q", got)
	}
	return a
}

func TestBrowserAdminBulkEnrollsFiftyUsers(t *testing.T) {
	in := testkit.NewInbox(t)
	p := testkit.Serve(t, testkit.WithDelivery(in, nil))
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)

	b.ClickAndWait(`a[href="/admin/bulk"]`)
	var paste strings.Builder
	paste.WriteString("username,email\n")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&paste, "user%02d,user%02d@example.com\n", i, i)
	}
	paste.WriteString("not valid,x@example.com\n")
	b.SetValue("#paste", paste.String())
	b.ClickAndWait("main button[type=submit]")
	if got := b.Text(".figures dd"); got != "50" {
		t.Fatalf("new users shown: %q", got)
	}
	if !strings.Contains(b.Text("table[aria-labelledby=problems]"), "52") {
		t.Fatalf("the bad line is not reported by number: %q", b.Text("table[aria-labelledby=problems]"))
	}
	b.SetValue("#subject", "Set up sign-in for {org}")
	b.ClickAndWait("main form button[type=submit]")
	if got := b.Text(".notice"); !strings.Contains(got, "50 new users created") || !strings.Contains(got, "50 enrollment emails queued") {
		t.Fatalf("result %q", got)
	}
	// The outbox worker delivers them over real SMTP to the inbox.
	deliver(t, p)
	if got := in.Count(); got != 50 {
		t.Fatalf("%d emails arrived, want 50", got)
	}
	first := string(in.Messages()[0].Raw)
	if !strings.Contains(first, "Subject: Set up sign-in for Example Org") || !strings.Contains(first, "/enroll/") {
		t.Fatalf("first email:\n%s", first)
	}
	if c := testkit.Got(p.Store.CountUsers(context.Background())).Must(t); c != 50 {
		t.Fatalf("%d users", c)
	}
}

func TestBrowserAdminImportShowsErrorsByLineAndAppliesNothing(t *testing.T) {
	p := testkit.Serve(t)
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleAdministrator)

	dir := t.TempDir()
	bad := filepath.Join(dir, "users.csv")
	os.WriteFile(bad, []byte("username,email,phone1,platform1,type1\n"+
		"alice,alice@example.com,(201) 555-0123,iphone,mobile\n"+
		"bob,not-an-email,,,\n"+
		"carol,carol@example.com,2015550124,blackberry,mobile\n"), 0o600)
	b.ClickAndWait(`a[href="/admin/import"]`)
	b.Run(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{bad}))
	b.ClickAndWait("main button[type=submit]")
	table := b.Text("table[aria-labelledby=errors]")
	if !strings.Contains(table, "3") || !strings.Contains(table, "email") || !strings.Contains(table, "4") || !strings.Contains(table, "platform1") {
		t.Fatalf("errors table %q", table)
	}
	if b.Count(`form[action="/admin/import/apply"]`) != 0 {
		t.Fatal("a file with errors can be applied")
	}
	if c := testkit.Got(p.Store.CountUsers(context.Background())).Must(t); c != 0 {
		t.Fatalf("%d users after a file with errors", c)
	}

	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("username,email,phone1,platform1\nalice,alice@example.com,(201) 555-0123,iphone\n"), 0o600)
	b.ClickAndWait(`a[href="/admin/import"]`)
	b.Run(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{good}))
	b.ClickAndWait("main button[type=submit]")
	b.ClickAndWait(`form[action="/admin/import/apply"] button[type=submit]`)
	if got := b.Text(".notice"); !strings.Contains(got, "1 user created") {
		t.Fatalf("result %q", got)
	}
}

var smsLinkRe = regexp.MustCompile(`http://localhost:\d+/activate/[A-Za-z0-9_-]+`)

func TestBrowserAdminSendsActivationLinksAndThePhoneActivates(t *testing.T) {
	gateway := testkit.NewSMSGateway(t)
	p := testkit.Serve(t, testkit.WithDelivery(nil, gateway))
	ctx := context.Background()
	u, err := p.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	ph, err := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: store.PhoneMobile, Number: "+12015550123", Platform: store.PlatformAndroid}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}

	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleUserManager)
	// The dashboard's notification bar leads to the list.
	b.ClickAndWait(`a[href="/admin/activation"]`)
	b.Click(`input[name=device]`)
	b.Click(`input[name=via][value=sms]`)
	b.ClickAndWait("main form button[type=submit]")
	if got := b.Text(".notice"); !strings.Contains(got, "Sent 1 activation link by SMS") {
		t.Fatalf("result %q", got)
	}
	// The outbox worker texts them to the SMS gateway (PORTAL_SMS_URL), in
	// order: install the app, then the activation link.
	deliver(t, p)
	var texts []string
	for _, m := range gateway.Received() {
		if m.To != "+12015550123" {
			t.Fatalf("text to %q", m.To)
		}
		texts = append(texts, m.Body)
	}
	if len(texts) != 2 || !strings.Contains(texts[0], "/install") {
		t.Fatalf("texts %q", texts)
	}
	link := smsLinkRe.FindString(texts[1])
	if link == "" {
		t.Fatalf("no activation link in %q", texts[1])
	}

	// On the phone.
	phone := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	phone.Visit(link)
	otpauth := phone.Attribute(`a[href^="otpauth:"]`, "href")
	if !strings.HasPrefix(otpauth, "otpauth://totp/Example%20Org:alice?secret=") {
		t.Fatalf("add-to-app button %q", otpauth)
	}
	if qr := testkit.QROnPage(t, phone); qr != otpauth {
		t.Fatalf("QR holds %q, the button %q", qr, otpauth)
	}
	phone.SendKeys("#code", "000000")
	phone.WaitVisible("#code-error")
	phone.SendKeys("#code", testkit.TOTPNow(t, otpauth, p.Clock.Now()))
	phone.WaitVisible("p.notice")
	if got := phone.Text("h1"); got != "Your device is set up" {
		t.Fatalf("done heading %q", got)
	}
	if got, _ := p.Store.PhoneByID(ctx, ph.ID); !got.Activated {
		t.Fatal("phone not activated")
	}
	// Back in the admin section, the list is empty now.
	b.Visit("/admin/activation")
	if !strings.Contains(b.Text("main"), "Every smartphone and tablet is activated") {
		t.Fatalf("list after activation %q", b.Text("main"))
	}
}

func TestBrowserAdminAddsAPhoneAndShowsItsActivationLink(t *testing.T) {
	p := testkit.Serve(t)
	ctx := context.Background()
	u, err := p.Users.Create(ctx, users.NewUser{Username: "bob", Email: "bob@example.com"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	browserSignIn(t, p, b, admin.RoleAdministrator)
	b.Visit("/admin/users/" + u.Key + "/phones")
	// A bad number first: the error is shown and nothing is added.
	b.SetValue("#number", "12")
	b.ClickAndWait("main form button[type=submit]")
	if !strings.Contains(b.Text("#phone-error"), "does not look right") {
		t.Fatalf("error %q", b.Text("#phone-error"))
	}
	b.SetValue("#number", "+1 201 555 0188")
	b.SetValue("#platform", "Apple iOS")
	b.SetValue("#name", "Work phone")
	b.ClickAndWait("main form button[type=submit]")
	if got := b.Text("table"); !strings.Contains(got, "Work phone") || !strings.Contains(got, "Not activated") {
		t.Fatalf("phones %q", got)
	}
	b.ClickAndWait(`a[href$="/activate"]`)
	b.Click(`input[name=via][value=""]`)
	b.SetValue("#hours", "72")
	b.ClickAndWait("main form button[type=submit]")
	link := b.Value("#activation-link")
	if !strings.HasPrefix(link, p.URL+"/activate/") {
		t.Fatalf("link %q", link)
	}
	// The link is shown once; the install page the first SMS points to.
	b.Visit("/admin/users/" + u.Key + "/phones")
	if b.Count("#activation-link") != 0 {
		t.Fatal("the link is shown twice")
	}
	b.Visit("/install?platform=ios")
	if !strings.Contains(b.Text("main"), "App Store") {
		t.Fatalf("install page %q", b.Text("main"))
	}
}
