// Package clock gives the rest of the portal its notion of "now", so that
// expiry, lockout and one-time-code windows can be tested with a fake clock.
// It imports nothing from the project.
package clock
