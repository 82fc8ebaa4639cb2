// Package testkit starts real portals for tests: a fresh SQLite file (or,
// with PORTAL_TEST_DB=postgres, a throwaway PostgreSQL database) and key in
// a temporary directory, the same wiring as the binary (package app), a
// fake clock, and optionally a real HTTP server on a loopback port. Only
// _test.go files import it.
//
// Beside the portal it starts the real parts the tests talk to: an SMTP
// server and an SMS webhook (inbox.go), PostgreSQL (postgres.go), OpenLDAP
// and a Samba AD domain controller (slapd.go, samba.go), Debian's
// login_duo under a pseudo-terminal (loginduo.go) and Duo's Node.js
// clients (duonode*.go); it signs admins in (admin.go) and enrolls an
// authenticator app as the pages do (enroll.go).
//
// browser.go drives Debian's headless Chromium for the TestBrowser... tests:
// every page a test loads is checked with axe-core at phone and desktop
// widths and for console errors, uncaught exceptions and
// Content-Security-Policy violations, and any finding fails the test. It
// also plugs in a virtual security key (WebAuthn). otp.go reads QR codes and
// computes the passcodes an authenticator app would show.
//
// A browser test reads like what a person does:
//
//	func TestBrowserEnrollPhone(t *testing.T) {
//		p := testkit.Serve(t)
//		link := ... // p.Enroll.IssueLink(...)
//		b := testkit.NewBrowser(t, testkit.At(p.URL), testkit.WithViewport(testkit.Phone))
//		b.Visit(link.URL)                      // checked: axe at both widths, console, CSP
//		b.ClickAndWait("button[type=submit]")  // next page, checked
//		b.SendKeys("#number", "(201) 555-0123")
//		b.Submit("#number")                    // next page, checked
//		...
//		b.SendKeys("#code", testkit.TOTPNow(t, otpauthURL, p.Clock.Now()))
//		b.WaitLocation("/done")                // the form submits itself
//	}
//
// Security keys: id := b.AddVirtualAuthenticator() before the ceremony, and
// b.Credentials(id) after it. Options: WithViewport(Phone|Desktop),
// CheckAccessibilityAt(...), AllowConsoleMessage(substr) for an error the
// test provokes on purpose, WithStepTimeout. Chromium missing fails the test;
// run `make test-tools` (as root) first. With PORTAL_TEST_ARTIFACTS=DIR, a
// failed browser test leaves a screenshot and the HTML of its last page there.
//
// It must not be imported by non-test code.
package testkit
