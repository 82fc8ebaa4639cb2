package web_test

import (
	"strings"
	"testing"

	"enrollportal/internal/enroll"
	"enrollportal/internal/testkit"
)

// pageWidth is how wide the document is: wider than the window means the
// page scrolls sideways.
func pageWidth(b *testkit.Browser) int {
	return testkit.Eval[int](b, `document.documentElement.scrollWidth`)
}

func TestBrowserEnrollBackAndForthOnAPhone(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))

	b.Visit(link)
	b.ClickAndWait("button[type=submit]")
	b.SendKeys("#number", "201 555 0123")
	b.ClickAndWait("button[type=submit]")
	// The browser says Android: that is the preselected platform.
	if b.Count(`input[value="Google Android"]:checked`) != 1 {
		t.Fatal("the platform is not preselected from the user agent")
	}
	b.ClickAndWait("button[type=submit]")

	// On a touch screen the button that works on this phone comes first,
	// the QR code for another device after it.
	if !testkit.Eval[bool](b, `(() => {
		const add = document.querySelector('#add-here a[href^="otpauth:"]').getBoundingClientRect();
		const qr = document.querySelector("img.qr").getBoundingClientRect();
		return add.height > 0 && add.bottom <= qr.top;
	})()`) {
		t.Fatal(`"Add to authenticator app" is not shown before the QR code`)
	}
	if !strings.Contains(b.Text("#add-here"), "this phone") {
		t.Fatalf("button line %q", b.Text("#add-here"))
	}
	first := testkit.QROnPage(t, b)

	// Back to the platform step and Continue: the account already added to
	// the app still works.
	b.Back()
	b.ClickAndWait("button[type=submit]")
	if again := testkit.QROnPage(t, b); again != first {
		t.Fatalf("back and Continue made a new secret:\n%s\n%s", first, again)
	}
	b.SendKeys("#code", testkit.TOTPNow(t, first, p.Clock.Now()))
	b.WaitVisible("ul.factors")
	// The number just typed is shown in full to the person who typed it.
	if list := b.Text("ul.factors"); !strings.Contains(list, "+1 201-555-0123") {
		t.Fatalf("enrolled list %q", list)
	}

	// Back from the done page: the device is set up, another can be added,
	// and nothing is wider than the phone.
	b.Back()
	if got := b.Text("h1"); got != "You are set up" {
		t.Fatalf("back after done shows %q", got)
	}
	if b.Count(`a[href$="/choose"]`) != 1 {
		t.Fatal(`no "Add another device"`)
	}
	if w := pageWidth(b); w > 360 {
		t.Fatalf("page is %d px wide at 360 px", w)
	}
}

func TestBrowserEnrollTabletSaysTabletAndAnExpiredSetupHasAButton(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))

	b.Visit(link)
	b.Click(`input[value="tablet"]`)
	b.ClickAndWait("button[type=submit]")
	b.ClickAndWait("button[type=submit]")
	if line := b.Text("#add-here"); !strings.Contains(line, "this tablet") || strings.Contains(line, "phone") {
		t.Fatalf("button line on a tablet %q", line)
	}

	p.Clock.Advance(enroll.ChallengeTTL)
	b.Reload()
	if got := b.Text("h1"); got != "This set-up has expired" {
		t.Fatalf("heading %q", got)
	}
	if w := pageWidth(b); w > 360 {
		t.Fatalf("page is %d px wide at 360 px", w)
	}
	b.ClickAndWait("a.button")
	if !strings.HasSuffix(b.Location(), link+"/choose") {
		t.Fatalf("start again went to %s", b.Location())
	}
}
