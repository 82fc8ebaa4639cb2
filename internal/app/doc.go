// Package app assembles the portal from its settings: opens the database and
// the at-rest key, and builds every service and the HTTP handler. The portal
// command and the end-to-end tests both start the portal through it, so the
// tests run exactly what the binary runs. It holds no rules of its own.
//
// Not to be confused with package apps (the protected applications that
// hosts and web applications register, and their credentials) or package
// demoapp (a sample application that signs in through the portal).
package app
