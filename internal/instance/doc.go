// Package instance records this portal process in the database (its start
// id, host, process id and a heartbeat) and tells live processes from dead
// ones, so that the claims a dead process held (outbox messages being sent,
// bulk jobs being applied) are taken back at once instead of after their
// lease. It also hands out the leases (Lead) under which scheduled work
// runs on one instance at a time when several share the database.
//
// On one host the test is exact: every process holds an exclusive lock
// (flock) on its own file in a directory beside the database for as long as
// it lives, and the kernel drops the lock the moment the process dies, even
// by kill -9. A process whose lock file can be locked by another is dead. A
// process on another host (a database shared over the network) is taken
// for dead when its heartbeat is older than StaleAfter.
//
// It knows nothing of HTTP; it imports store, secret and clock.
package instance
