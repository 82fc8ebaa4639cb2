// Package throttle limits how often one key (a client IP, a user) may try a
// guessable or costly thing, with a clock passed in so windows are testable.
//
// The buckets live in the process's memory on purpose: they are speed bumps
// that keep a client from hammering one process, checked on every login and
// link lookup, where a database write each would cost every honest request.
// Behind a load balancer each of N instances keeps its own buckets, so the
// effective limit is N times the one set here (the README lists the totals).
// The limits that bound guessing across instances are kept in the database
// instead: a user's wrong-code count and lockout (package verify) and an
// admin account's failures per address (package admin).
//
// It imports only clock.
package throttle
