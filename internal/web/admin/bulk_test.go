package admin_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

func countOutbox(t *testing.T, p *testkit.Portal, where string) int {
	t.Helper()
	var n int
	if err := p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE ` + where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAdminBulkEnrollPages(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleUserManager)

	if r := c.Get("/admin/bulk"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `name="paste"`) {
		t.Fatalf("GET /admin/bulk: %d", r.StatusCode)
	}
	if r := c.Post("/admin/bulk/preview", url.Values{"paste": {"  "}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Paste at least one line") {
		t.Fatalf("empty paste: %d", r.StatusCode)
	}
	paste := "username,email\nalice,alice@example.com\nbad user,x@example.com\nbob,bob@example.com\nalice,again@example.com\n"
	r := c.Post("/admin/bulk/preview", url.Values{"paste": {paste}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d", r.StatusCode)
	}
	for _, want := range []string{"<td>3</td>", "bad username", "<td>5</td>", "duplicate: alice is already on line 2", "Send 2 enrollment emails", "{link}"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("preview created %d users", n)
	}
	// A message without the link is refused and nothing is sent.
	r = c.Post("/admin/bulk/send", url.Values{"paste": {paste}, "subject": {"Hello"}, "body": {"No link here."}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "{link}") || countOutbox(t, p, "1 = 1") != 0 {
		t.Fatalf("send without link: %d", r.StatusCode)
	}
	r = c.Post("/admin/bulk/send", url.Values{"paste": {paste}, "subject": {"Set up {org} sign-in"}, "body": {"Hi {username}: {link}"}, "save_text": {"1"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/bulk" {
		t.Fatalf("send: %d %s", r.StatusCode, r.Location())
	}
	if r = c.Get("/admin/bulk"); !strings.Contains(r.Body, "2 new users created") {
		t.Fatalf("flash missing: %s", r.Body)
	}
	if n := countOutbox(t, p, "channel = 'email' AND subject = 'Set up Example Org sign-in'"); n != 2 {
		t.Fatalf("%d emails queued", n)
	}
	if saved, err := p.Store.MessageTemplate(ctx, "bulk_enroll"); err != nil || saved.Body != "Hi {username}: {link}" {
		t.Fatalf("saved text %+v %v", saved, err)
	}
	// The next preview starts from the saved text.
	if r = c.Post("/admin/bulk/preview", url.Values{"paste": {"carol,carol@example.com"}}); !strings.Contains(r.Body, "Hi {username}: {link}") {
		t.Fatal("saved text not offered")
	}
	// Without the CSRF token nothing happens.
	if r = c.Post("/admin/bulk/send", url.Values{"csrf_token": {"wrong"}, "paste": {"dave,dave@example.com"}, "subject": {"x"}, "body": {"{link}"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("bad csrf: %d", r.StatusCode)
	}
	// Help desk may not bulk enroll.
	hd, _ := p.SignInAs(t, admin.RoleHelpDesk)
	if r = hd.Get("/admin/bulk"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("help desk: %d", r.StatusCode)
	}
}

// upload posts a CSV file as a multipart form with the CSRF token.
func upload(t *testing.T, c *testkit.Client, path, mode, name, content string) testkit.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf_token", c.CSRF())
	w.WriteField("mode", mode)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write([]byte(content))
	w.Close()
	return c.Send(http.MethodPost, path, &buf, w.FormDataContentType())
}

func TestAdminImportPages(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	c.Get("/admin/import")

	bad := "username,email,phone1,platform1\nalice,alice@example.com,2015550123,iphone\nbad user,,,\ncarol,carol@example.com,12,android\n"
	r := upload(t, c, "/admin/import/preview", "upsert", "users.csv", bad)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "2 lines have problems") ||
		!strings.Contains(r.Body, "<td>3</td>") || !strings.Contains(r.Body, "<td>4</td>") || strings.Contains(r.Body, "/admin/import/apply") {
		t.Fatalf("bad file: %d %s", r.StatusCode, r.Body)
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatalf("bad file created %d users", n)
	}
	// Apply without a checked file is refused.
	if r = c.Post("/admin/import/apply", nil); r.StatusCode != http.StatusGone {
		t.Fatalf("apply without preview: %d", r.StatusCode)
	}
	c.Get("/admin/import")
	good := "username,realname,phone1,platform1,group1\nalice,Alice,2015550123,iphone,Staff\nbob,Bob,,,Staff\n"
	r = upload(t, c, "/admin/import/preview", "upsert", "users.csv", good)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Import 2 users") {
		t.Fatalf("good file: %d %s", r.StatusCode, r.Body)
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 0 {
		t.Fatal("preview applied the file")
	}
	r = c.Post("/admin/import/apply", nil)
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/import" {
		t.Fatalf("apply: %d", r.StatusCode)
	}
	if r = c.Get("/admin/import"); !strings.Contains(r.Body, "2 users created") || !strings.Contains(r.Body, "No messages were sent") {
		t.Fatalf("flash: %s", r.Body)
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 2 || countOutbox(t, p, "1 = 1") != 0 {
		t.Fatalf("users %d", n)
	}
	// The same upload cannot be applied twice.
	if r = c.Post("/admin/import/apply", nil); r.StatusCode != http.StatusGone {
		t.Fatalf("second apply: %d", r.StatusCode)
	}
	// Delete mode.
	r = upload(t, c, "/admin/import/preview", "delete", "gone.csv", "username\nbob\n")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Delete 1 users") {
		t.Fatalf("delete preview: %d", r.StatusCode)
	}
	if r = c.Post("/admin/import/apply", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete apply: %d", r.StatusCode)
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 1 {
		t.Fatalf("users after delete %d", n)
	}
}

var (
	activationLinkRe   = regexp.MustCompile(`value="(http://localhost/activate/[^"]+)"`)
	activationSecretRe = regexp.MustCompile(`secret=([A-Z2-7]+)`)
)

func TestAdminPhonesAndActivationLink(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	u, err := p.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/users/" + u.Key + "/phones"
	if r := c.Get(base); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "no phones or tablets") {
		t.Fatalf("phones page: %d", r.StatusCode)
	}
	if r := c.Post(base, url.Values{"type": {"mobile"}, "number": {"12"}, "platform": {"Apple iOS"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "does not look right") {
		t.Fatalf("bad number: %d", r.StatusCode)
	}
	if r := c.Post(base, url.Values{"type": {"tablet"}, "platform": {"Apple iOS"}, "name": {"iPad"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add tablet: %d", r.StatusCode)
	}
	phones, _ := p.Store.PhonesByUser(ctx, u.ID)
	if len(phones) != 1 || phones[0].Type != store.PhoneTablet {
		t.Fatalf("phones %+v", phones)
	}
	activate := base + "/" + phones[0].Key + "/activate"
	if r := c.Get(activate); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "{acturl}") {
		t.Fatalf("activate page: %d", r.StatusCode)
	}
	// An SMS to a tablet is refused with the reason; an email is sent.
	if r := c.Post(activate, url.Values{"via": {"sms"}, "hours": {"24"}, "sms_install": {"{insturl}"}, "sms_activate": {"{acturl}"}}); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "no mobile number") {
		t.Fatalf("sms to tablet: %d", r.StatusCode)
	}
	r := c.Post(activate, url.Values{"via": {"email"}, "hours": {"72"}, "email_subject": {"Activate"}, "email_body": {"Open {acturl}"}, "logo": {"1"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send by email: %d %s", r.StatusCode, r.Body)
	}
	r = c.Get(base)
	m := activationLinkRe.FindStringSubmatch(r.Body)
	if m == nil || !strings.Contains(r.Body, "queued for alice@example.com; no email server is configured") {
		t.Fatalf("link not shown: %s", r.Body)
	}
	if countOutbox(t, p, "channel = 'email' AND recipient = 'alice@example.com'") != 1 {
		t.Fatal("no activation email queued")
	}
	// A second send while the first link works is refused.
	if r := c.Post(activate, url.Values{"via": {"email"}, "hours": {"24"}, "email_subject": {"Activate"}, "email_body": {"Open {acturl}"}}); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "works until") {
		t.Fatalf("second send: %d", r.StatusCode)
	}

	// The link opened on the tablet.
	phone := testkit.NewClient(t, p)
	path := strings.TrimPrefix(m[1], "http://localhost")
	r = phone.Get(path)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "otpauth://totp/") {
		t.Fatalf("activation page: %d", r.StatusCode)
	}
	sec := activationSecretRe.FindStringSubmatch(r.Body)
	if sec == nil {
		t.Fatal("no secret on the page")
	}
	if r = phone.Get(path); !strings.Contains(r.Body, "secret="+sec[1]) {
		t.Fatal("reload changed the secret")
	}
	if qr := phone.Get(path + "/qr.png"); qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d", qr.StatusCode)
	}
	if r = phone.Post(path, url.Values{"code": {"000000"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "9 tries left") {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	code, _ := totp.GenerateCode(sec[1], p.Clock.Now())
	r = phone.Post(path, url.Values{"code": {code}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != path+"/done" {
		t.Fatalf("right code: %d %s", r.StatusCode, r.Location())
	}
	if r = phone.Get(path + "/done"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "set up") {
		t.Fatalf("done: %d", r.StatusCode)
	}
	if got, _ := p.Store.PhoneByID(ctx, phones[0].ID); !got.Activated {
		t.Fatal("tablet not activated")
	}
	if r = phone.Get(path); r.StatusCode != http.StatusGone {
		t.Fatalf("used link: %d", r.StatusCode)
	}
	if r = phone.Get("/activate/not-a-real-activation-code-xxxxxxxxxxxx"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link: %d", r.StatusCode)
	}
}

func TestAdminSendActivationLinks(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	who := audit.CLI()
	var devices []string
	for _, name := range []string{"alice", "bob", "carol"} {
		u, _ := p.Users.Create(ctx, users.NewUser{Username: name, Email: name + "@example.com"}, who)
		ph, err := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: "mobile", Number: "+1201555010" + string(rune('1'+len(devices))), Platform: store.PlatformAndroid}, who)
		if err != nil {
			t.Fatal(err)
		}
		devices = append(devices, itoa64(u.ID)+":"+itoa64(ph.ID))
	}
	c, _ := p.SignInAs(t, admin.RoleUserManager)
	r := c.Get("/admin/activation")
	if r.StatusCode != http.StatusOK || strings.Count(r.Body, `name="device"`) != 3 {
		t.Fatalf("list: %d", r.StatusCode)
	}
	// No SMS gateway on this portal: the form starts on email.
	if !strings.Contains(r.Body, `value="email" checked`) || strings.Contains(r.Body, `value="sms" checked`) {
		t.Fatalf("the send form does not default to email without an SMS gateway:\n%s", r.Body)
	}
	form := url.Values{"via": {"sms"}, "hours": {"24"}, "sms_install": {"Get the app: {insturl}"}, "sms_activate": {"Then: {acturl}"},
		"email_subject": {"x"}, "email_body": {"{acturl}"}, "device": {devices[0], devices[2]}}
	if r = c.Post("/admin/activation", url.Values{"via": {"sms"}, "hours": {"24"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Tick at least one") {
		t.Fatalf("none ticked: %d", r.StatusCode)
	}
	r = c.Post("/admin/activation", form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d %s", r.StatusCode, r.Body)
	}
	if r = c.Get("/admin/activation"); !strings.Contains(r.Body, "2 activation links queued by SMS; no SMS gateway is configured") ||
		strings.Contains(r.Body, "Sent 2 activation links") || strings.Count(r.Body, "Sent, works until") != 2 {
		t.Fatalf("after send: %s", r.Body)
	}
	if n := countOutbox(t, p, "channel = 'sms'"); n != 4 {
		t.Fatalf("%d SMS queued, want 4", n)
	}
	// Help desk may send only when the setting allows it.
	hd, _ := p.SignInAs(t, admin.RoleHelpDesk)
	if r = hd.Get("/admin/activation"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("help desk: %d", r.StatusCode)
	}
	may := true
	p.SaveSettings(t, org.Change{HelpDeskMaySend: &may})
	p.Clock.Advance(time.Second)
	if r = hd.Get("/admin/activation"); r.StatusCode != http.StatusOK {
		t.Fatalf("help desk allowed: %d", r.StatusCode)
	}
}

// The settings page's activation link validity is what the send forms
// offer first, and a send with it makes a link that works that long.
func TestAdminActivationFormsStartFromTheSettingsValidity(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	owner, _ := p.SignInAs(t, admin.RoleOwner)
	if r := owner.Post("/admin/settings", url.Values{"org_name": {"Acme"}, "activation_hours": {"36"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d", r.StatusCode)
	}
	u := testkit.Got(p.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com"}, audit.CLI())).Must(t)
	base := "/admin/users/" + u.Key + "/phones"
	if r := owner.Post(base, url.Values{"type": {"tablet"}, "platform": {"Apple iOS"}, "name": {"iPad"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add tablet: %d", r.StatusCode)
	}
	phones := testkit.Got(p.Store.PhonesByUser(ctx, u.ID)).Must(t)
	activate := base + "/" + phones[0].Key + "/activate"
	for _, path := range []string{activate, "/admin/activation"} {
		r := owner.Get(path)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `<option value="36" selected>36 hours</option>`) ||
			!strings.Contains(r.Body, `<option value="72">3 days</option>`) {
			t.Fatalf("%s does not start from the setting: %d\n%s", path, r.StatusCode, r.Body)
		}
	}
	if r := owner.Post(activate, url.Values{"via": {"email"}, "hours": {"48"}, "email_subject": {"Activate"}, "email_body": {"Open {acturl}"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a validity not offered was taken: %d", r.StatusCode)
	}
	if r := owner.Post(activate, url.Values{"via": {"email"}, "hours": {"36"}, "email_subject": {"Activate"}, "email_body": {"Open {acturl}"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("send with the setting's validity: %d %s", r.StatusCode, r.Body)
	}
	var expires int64
	if err := p.Store.SQL().QueryRowContext(ctx, `SELECT expires_at FROM activation_codes WHERE phone_id = ?`, phones[0].ID).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if got := time.Unix(expires, 0).Sub(p.Clock.Now()); got != 36*time.Hour {
		t.Fatalf("the link works %v, want 36h", got)
	}
}
