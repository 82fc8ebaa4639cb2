// Package bulk owns bulk enrollment: reading pasted "username,email" lines,
// previewing what a send would do (new users, users already enrolled and
// skipped, users not yet enrolled who get a fresh link, invalid lines by line
// number), and the send itself: create the new users, issue one 30-day
// enrollment link each and queue one email each, all in ONE transaction, so
// that a failure part-way applies nothing.
//
// One transaction was chosen over batches because SQLite writes 10,000 users
// with their links, audit records and outbox rows in a few seconds, and an
// all-or-nothing send is the only report an admin never has to reconcile.
//
// It knows nothing of HTTP; it imports store, users, enroll, notify, audit.
package bulk
