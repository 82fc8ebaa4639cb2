package testkit

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// QROnPage fetches the QR image the browser's page shows, with the page's
// own cookies, and decodes it as a phone camera would. The enrollment,
// activation and admin pages all show their QR codes as img.qr.
func QROnPage(t testing.TB, b *Browser) string {
	t.Helper()
	b64 := Eval[string](b, `fetch(document.querySelector("img.qr").src, {credentials: "same-origin"})
		.then(r => r.arrayBuffer())
		.then(buf => { let s = ""; new Uint8Array(buf).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return DecodeQRPNG(t, png)
}

// OutboxMessages lists the portal's outbox (up to 100 messages), failing
// the test when the query fails.
func OutboxMessages(t testing.TB, p *Portal) []store.Message {
	t.Helper()
	msgs, _, err := p.Store.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// EnrollMobileByQR walks an enrollment from its welcome page, where b is,
// to a mobile phone with number whose authenticator app (on platform, as
// the platform step names it) scans the QR code and types the code it
// shows at at; it returns the otpauth URL the QR code held.
func EnrollMobileByQR(t testing.TB, b *Browser, number, platform string, at time.Time) string {
	t.Helper()
	if got := b.Text("h1"); got != "Set up two-factor sign-in" {
		t.Fatalf("welcome heading %q", got)
	}
	b.ClickAndWait("button[type=submit]") // mobile phone, preselected
	b.SendKeys("#number", number)
	b.ClickAndWait("button[type=submit]")
	b.Click(`input[value="` + platform + `"]`)
	b.ClickAndWait("button[type=submit]")
	otpauth := QROnPage(t, b)
	b.SendKeys("#code", TOTPNow(t, otpauth, at))
	b.WaitVisible("ul.factors")
	return otpauth
}

// EnrollSecurityKey picks the security key on the choice of an
// enrollment, where b is, and registers the browser's virtual
// authenticator (add it with AddVirtualAuthenticator first).
func EnrollSecurityKey(t testing.TB, b *Browser) {
	t.Helper()
	b.Click(`input[value="security_key"]`)
	b.ClickAndWait("button[type=submit]")
	b.WaitVisible("#key-register:not([disabled])")
	b.Click("#key-register")
	b.WaitVisible("ul.factors")
}
