// Package testkit starts real portals for tests: a fresh SQLite file and key
// in a temporary directory, the same wiring as the binary (package app), a
// fake clock, and optionally a real HTTP server on a loopback port. Only
// _test.go files import it.
//
// browser.go drives Debian's headless Chromium for the TestBrowser... tests:
// every page a test loads is checked with axe-core at phone and desktop
// widths and for console errors, uncaught exceptions and
// Content-Security-Policy violations, and any finding fails the test. It
// also plugs in a virtual security key (WebAuthn). otp.go reads QR codes and
// computes the passcodes an authenticator app would show.
//
// It must not be imported by non-test code.
package testkit
