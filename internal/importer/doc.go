// Package importer owns importing users from a CSV file: the columns of
// Duo's "Import Users" (a header row names them in any order; only username
// is required), creating or updating users found by username or alias, their
// phones (several per user, shared by number, free-format numbers made E.164),
// groups (created as needed) and hardware tokens, or deleting the listed
// users. It never sends a message.
//
// The file is streamed, never held in memory: a first pass validates every
// line against the database and writes a compact plan of the changes to the
// database, in chunks of a job step's rows, under an id whose hash alone is
// stored (so any instance can apply a plan another checked, and any
// instance's job runner can run the import); only when no line has an error
// does a second pass apply the plan, as a job (package jobs): steps of 250 lines, each one short
// transaction committed with the job's progress, so that logins never wait
// long behind an import and a crash never applies a line twice. An import
// cut off by a crash goes on at the next start; until it is done the admin
// pages show it as running, with its progress. A line that the database
// refuses by then (another admin changed the same user since the check) is
// skipped and listed. Preview runs the first pass alone. Memory holds only
// an index of names and phone numbers.
//
// It knows nothing of HTTP; it imports store, users, audit, secret, clock,
// jobs, org and text.
package importer
