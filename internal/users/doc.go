// Package users owns the rules for end-user accounts: how usernames are
// normalized and validated on every input path, and every change an admin
// or a directory makes to users and groups (create, edit, delete, unlock,
// group membership, profiles), each with its audit record, including the
// rule that a change resets failed attempts unless the user is locked out.
// It knows nothing of HTTP; it imports store, audit, secret, clock and
// text.
package users
