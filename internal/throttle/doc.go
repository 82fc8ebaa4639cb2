// Package throttle limits how often one key (a client IP, a user) may try a
// guessable or costly thing, with a clock passed in so windows are testable.
// It imports only clock.
package throttle
