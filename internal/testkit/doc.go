// Package testkit starts real portals for tests: a fresh SQLite file and key
// in a temporary directory, the same wiring as the binary (package app), a
// fake clock, and optionally a real HTTP server on a loopback port. Only
// _test.go files import it.
package testkit
