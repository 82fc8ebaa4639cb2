// Package importer owns importing users from a CSV file: the columns of
// Duo's "Import Users" (a header row names them in any order; only username
// is required), creating or updating users found by username or alias, their
// phones (several per user, shared by number, free-format numbers made E.164),
// groups (created as needed) and hardware tokens, or deleting the listed
// users. It never sends a message.
//
// The file is streamed, never held in memory: a first pass validates every
// line against the database and writes a compact plan of the changes to a
// temporary file; only when no line has an error does a second pass apply
// the plan in ONE transaction (all or nothing). Preview runs the first pass
// alone. Memory holds only an index of names and phone numbers.
//
// It knows nothing of HTTP; it imports store, users, audit, secret and clock.
package importer
