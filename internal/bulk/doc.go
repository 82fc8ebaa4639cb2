// Package bulk owns bulk enrollment: reading pasted "username,email" lines,
// previewing what a send would do (new users, users already enrolled and
// skipped, users not yet enrolled who get a fresh link, invalid lines by line
// number), and the send itself: create the new users, issue one 30-day
// enrollment link each and queue one email each.
//
// A send is a job (package jobs): its rows are applied in steps of 100, each
// one short transaction that holds a row's user, link, email and audit
// records together with the job's progress, so that a login never waits
// long behind a send and a crash never applies a row twice or leaves one
// half-done. A send that a crash cut off goes on at the next start; until it
// is done the admin pages show it as running, with its progress.
//
// It knows nothing of HTTP; it imports store, users, enroll, notify, audit,
// jobs, policy, secret and clock.
package bulk
