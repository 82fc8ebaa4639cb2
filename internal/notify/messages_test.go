package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit/testdb"
)

var testOrg = Org{Name: "Example Org", Header: DefaultHeader("Example Org"), LogoURL: "https://portal.example/logo.png"}

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	return testdb.OpenNew(t)
}

// openStoreAt opens the database at path (a SQLite file or a PostgreSQL
// URL of testdb.New), again for a restart.
func openStoreAt(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	return testdb.Open(t, path)
}

func TestRenderSubstitutesLiterallyInOnePass(t *testing.T) {
	got := Render("Hi {username}, {realname} {unknown} {{username}}", Vars{
		PUsername: "alice", PRealName: "{username} {{.Exec}}",
	})
	want := "Hi alice, {username} {{.Exec}} {unknown} {alice}"
	if got != want {
		t.Fatalf("Render = %q, want %q", got, want)
	}
}

func TestValidateText(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		text Text
		want []string // substrings of the problems, in order; none when fine
	}{
		{"default enrollment", KindEnrollment, DefaultEnrollment, nil},
		{"default activation email", KindActivationEmail, DefaultActivationEmail, nil},
		{"default sms install", KindSMSInstall, Text{Body: DefaultActivationSMS.Install}, nil},
		{"default sms activation", KindSMSActivation, Text{Body: DefaultActivationSMS.Activation}, nil},
		{"braces that are not placeholders", KindEnrollment, Text{Subject: "Hi { }", Body: "Open {link} {} {a b}"}, nil},
		{"empty", KindEnrollment, Text{}, []string{"Enter a subject.", "Enter the message text."}},
		{"subject with newline", KindEnrollment, Text{Subject: "Hi\r\nBcc: evil@example.com", Body: "{link}"}, []string{"one line"}},
		{"subject control char", KindEnrollment, Text{Subject: "Hi\x00", Body: "{link}"}, []string{"control characters"}},
		{"missing link", KindEnrollment, Text{Subject: "Hi", Body: "Hello {username}"}, []string{"must contain {link}"}},
		{"unknown placeholder", KindEnrollment, Text{Subject: "Hi {name}", Body: "{link} {acturl}"}, []string{"subject uses {name}", "message text uses {acturl}"}},
		{"activation needs acturl", KindActivationEmail, Text{Subject: "x", Body: "{insturl}"}, []string{"must contain {acturl}"}},
		{"sms too long", KindSMSActivation, Text{Body: "{acturl}" + strings.Repeat("x", 500)}, []string{"too long"}},
		{"subject too long", KindEnrollment, Text{Subject: strings.Repeat("s", 201), Body: "{link}"}, []string{"subject is too long"}},
		{"unknown kind", Kind("nope"), DefaultEnrollment, []string{"cannot be edited"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ValidateText(c.kind, c.text)
			if len(got) != len(c.want) {
				t.Fatalf("problems = %q, want %d matching %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestEnrollmentEmailEscapesAndKeepsHeaderLine(t *testing.T) {
	u := store.User{Username: "alice", RealName: "Alice <script>alert(1)</script>\r\nBcc: x@evil.example", Email: "alice@example.com"}
	expires := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	custom := &Text{Subject: "Welcome {realname}\nX-Evil: 1", Body: "Dear {realname},\n\nclick {link} or https://phish.example\n\n<b>{org}</b> until {expires}"}
	m := EnrollmentEmail(testOrg, u, "https://portal.example/enroll/tok?a=1&b=2", expires, custom)

	if m.Channel != store.ChannelEmail || m.Recipient != "alice@example.com" {
		t.Fatalf("channel/recipient = %q/%q", m.Channel, m.Recipient)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("subject carries a line break: %q", m.Subject)
	}
	if want := "Welcome Alice <script>alert(1)</script> Bcc: x@evil.example X-Evil: 1"; m.Subject != want {
		t.Fatalf("subject = %q, want %q", m.Subject, want)
	}
	if !strings.HasPrefix(m.BodyText, testOrg.Header+"\n\n") {
		t.Fatalf("text part does not start with the header line: %q", m.BodyText)
	}
	for _, want := range []string{"click https://portal.example/enroll/tok?a=1&b=2 or", "<b>Example Org</b> until 1 April 2026, 09:30 UTC"} {
		if !strings.Contains(m.BodyText, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.BodyText)
		}
	}
	for _, want := range []string{
		"automated message from the Example Org enrollment portal",
		"Dear Alice &lt;script&gt;alert(1)&lt;/script&gt; Bcc: x@evil.example,",
		`<a href="https://portal.example/enroll/tok?a=1&amp;b=2">https://portal.example/enroll/tok?a=1&amp;b=2</a>`,
		"or https://phish.example</p>",
		"&lt;b&gt;Example Org&lt;/b&gt;",
	} {
		if !strings.Contains(m.BodyHTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.BodyHTML)
		}
	}
	if strings.Contains(m.BodyHTML, "<script>") || strings.Contains(m.BodyHTML, `href="https://phish`) {
		t.Errorf("HTML part lets user or admin text through unescaped:\n%s", m.BodyHTML)
	}
	if strings.Contains(m.BodyHTML, "<img") {
		t.Errorf("enrollment email shows a logo it was not asked for")
	}
}

func TestActivationEmailLogoIsOptional(t *testing.T) {
	u := store.User{Username: "bob", Email: "bob@example.com"}
	exp := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	with := ActivationEmail(testOrg, u, "https://apps.example/install", "https://portal.example/activate/x", exp, nil, true)
	without := ActivationEmail(testOrg, u, "https://apps.example/install", "https://portal.example/activate/x", exp, nil, false)
	if !strings.Contains(with.BodyHTML, `<img src="https://portal.example/logo.png" alt="Example Org"`) {
		t.Errorf("logo missing:\n%s", with.BodyHTML)
	}
	if strings.Contains(without.BodyHTML, "<img") {
		t.Errorf("logo shown when not asked")
	}
	if !strings.Contains(with.BodyText, "Hello bob,") || with.Subject != "Activate Example Org sign-in on your device" {
		t.Errorf("real name does not fall back to the username, or subject wrong: %q / %q", with.BodyText, with.Subject)
	}
}

func TestActivationSMSIsTwoMessagesInOrder(t *testing.T) {
	u := store.User{Username: "carol"}
	msgs := ActivationSMS(testOrg, u, "+15551234567", "https://apps.example/install", "https://portal.example/activate/x",
		time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), nil)
	for i, want := range []string{"install the authenticator app: https://apps.example/install", "activate it (valid until 1 April 2026, 00:00 UTC): https://portal.example/activate/x"} {
		m := msgs[i]
		if m.Channel != store.ChannelSMS || m.Recipient != "+15551234567" || m.Subject != "" || m.BodyHTML != "" {
			t.Errorf("message %d: %+v", i, m)
		}
		if !strings.HasPrefix(m.BodyText, testOrg.Header+"\n\n") || !strings.Contains(m.BodyText, want) {
			t.Errorf("message %d = %q, want header then %q", i, m.BodyText, want)
		}
	}
}

func TestLoadOrgHeaderDefaultsAndSetting(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	o, err := LoadOrg(ctx, db, "Acme", "")
	if err != nil || o.Header != DefaultHeader("Acme") {
		t.Fatalf("default header = %q, %v", o.Header, err)
	}
	settings := org.New(db, "")
	header := "Automated message from Acme.\nAsk helpdesk@acme.example"
	if _, err := settings.Save(ctx, org.Change{MessageHeader: &header}, audit.CLI(), time.Now()); err != nil {
		t.Fatal(err)
	}
	o, err = LoadOrg(ctx, db, "Acme", "")
	if err != nil || o.Header != "Automated message from Acme. Ask helpdesk@acme.example" || o.LogoURL != "" {
		t.Fatalf("stored header = %q, logo %q, %v", o.Header, o.LogoURL, err)
	}
	for stored, want := range map[string]string{
		"https://acme.example/logo.png": "https://acme.example/logo.png",
		"javascript:alert(1)":           "",
	} {
		if _, err := settings.Save(ctx, org.Change{MessageLogoURL: &stored}, audit.CLI(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if o, err = LoadOrg(ctx, db, "Acme", ""); err != nil || o.LogoURL != want {
			t.Errorf("logo setting %q gave %q, %v; want %q", stored, o.LogoURL, err, want)
		}
	}
}

func TestEnqueueKeepsOneMessagePerIntent(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := EnrollmentEmail(testOrg, store.User{Username: "alice", Email: "alice@example.com"}, "https://p.example/enroll/t", now.Add(720*time.Hour), nil)
	m.IntentKey = EnrollLinkIntent(7, 1)
	for i, want := range []bool{true, false} {
		var ok bool
		err := db.InTx(ctx, func(q store.Queries) error {
			var err error
			ok, err = Enqueue(ctx, q, m, now)
			return err
		})
		if err != nil || ok != want {
			t.Fatalf("enqueue %d = %v, %v; want %v", i, ok, err, want)
		}
	}
	bad := []store.Message{
		{Channel: store.ChannelEmail, Recipient: "a@example.com", BodyText: "x"},
		{IntentKey: "k1", Channel: "fax", Recipient: "a@example.com", BodyText: "x"},
		{IntentKey: "k2", Channel: store.ChannelEmail, Recipient: " ", BodyText: "x"},
		{IntentKey: "k3", Channel: store.ChannelEmail, Recipient: "a@example.com", Subject: "a\r\nBcc: b@example.com", BodyText: "x"},
	}
	for i, b := range bad {
		if ok, err := Enqueue(ctx, db, b, now); err == nil || ok {
			t.Errorf("bad message %d accepted", i)
		}
	}
}
