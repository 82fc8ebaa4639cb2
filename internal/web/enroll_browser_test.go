package web_test

import (
	"context"
	"strings"
	"testing"

	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestBrowserEnrollMobilePhoneByScanningTheQRCode(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))

	b.Visit(link)
	if got := b.Text("h1"); got != "Set up two-factor sign-in" {
		t.Fatalf("welcome heading %q", got)
	}
	// Mobile phone is preselected as the recommended choice: one click on.
	b.ClickAndWait("button[type=submit]")
	b.SendKeys("#number", "201 555 0123")
	b.ClickAndWait("button[type=submit]")
	if !strings.Contains(b.Text(".notice"), "201-555-0123") {
		t.Fatalf("number not read back: %q", b.Text(".notice"))
	}
	b.Click(`input[value="Google Android"]`)
	b.ClickAndWait("button[type=submit]")

	otpauth := testkit.QROnPage(t, b)
	if !strings.HasPrefix(otpauth, "otpauth://totp/Example%20Org:alice?secret=") ||
		!strings.HasSuffix(otpauth, "&issuer=Example%20Org&algorithm=SHA1&digits=6&period=30") {
		t.Fatalf("QR holds %q", otpauth)
	}
	if href := b.Attribute(`a[href^="otpauth:"]`, "href"); href != otpauth {
		t.Fatalf("the add-to-app button holds %q, the QR %q", href, otpauth)
	}

	// A wrong code first: the error is shown, tied to the field.
	b.SendKeys("#code", "000000")
	b.WaitVisible("#code-error")
	if !strings.Contains(b.Text("#code-error"), "9 tries left") {
		t.Fatalf("error %q", b.Text("#code-error"))
	}
	// Typing the six digits the app shows submits the form by itself.
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, p.Clock.Now()))
	b.WaitVisible("ul.factors")
	if got := b.Text("h1"); got != "You are set up" {
		t.Fatalf("done heading %q", got)
	}
	if list := b.Text("ul.factors"); !strings.Contains(list, "Mobile phone") || !strings.Contains(list, "Google Android") {
		t.Fatalf("enrolled list %q", list)
	}

	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	f, _ := p.Enroll.FactorsOf(context.Background(), u.ID)
	if !f.Any() || f.Phones[0].Number != "+12015550123" || f.Phones[0].Platform != store.PlatformAndroid {
		t.Fatalf("stored: %+v", f.Phones)
	}
}

func TestBrowserEnrollSecurityKeyWithAVirtualAuthenticator(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL))
	auth := b.AddVirtualAuthenticator()

	b.Visit(link)
	b.Click(`input[value="security_key"]`)
	b.ClickAndWait("button[type=submit]")
	if got := b.Value("#name"); got != enroll.DefaultKeyName {
		t.Fatalf("default key name %q", got)
	}
	// The default name is kept: the list says "Security key" once, not
	// "Security key / Security key".
	b.WaitVisible("#key-register:not([disabled])")
	b.Click("#key-register")
	b.WaitVisible("ul.factors")
	if list := strings.TrimSpace(b.Text("ul.factors")); list != "Security key" {
		t.Fatalf("enrolled list %q", list)
	}
	if creds := b.Credentials(auth); len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials", len(creds))
	}
	u, _ := p.Store.UserByUsername(context.Background(), "alice")
	keys, _ := p.Store.SecurityKeysByUser(context.Background(), u.ID)
	if len(keys) != 1 || keys[0].Name != enroll.DefaultKeyName || len(keys[0].AAGUID) != 16 || len(keys[0].PublicKey) == 0 {
		t.Fatalf("stored keys: %+v", keys)
	}

	// A second key on the same authenticator is excluded by the browser and
	// the page says so instead of registering it twice.
	b.Visit(link + "/key")
	b.WaitVisible("#key-register:not([disabled])")
	b.Click("#key-register")
	b.WaitVisible("#key-status.error-text")
	if msg := b.Text("#key-status"); !strings.Contains(msg, "This key is already set up for your account") {
		t.Fatalf("registering the same key again says %q", msg)
	}
	if keys := testkit.Got(p.Store.SecurityKeysByUser(context.Background(), u.ID)).Must(t); len(keys) != 1 {
		t.Fatalf("%d keys after registering the same authenticator again", len(keys))
	}
}

func TestBrowserExpiredLinkSaysWhatToDo(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	p.Clock.Advance(enroll.LinkTTL)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
	b.Visit(link)
	if got := b.Text("h1"); got != "This enrollment link has expired" {
		t.Fatalf("heading %q", got)
	}
	// The user has an address on file, so the page offers a fresh link,
	// and names the help desk for when the address is wrong.
	if main := b.Text("main"); !strings.Contains(main, "Email me a new link") || !strings.Contains(main, "help desk") {
		t.Fatalf("no next step: %q", main)
	}
}
