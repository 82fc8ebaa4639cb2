// Package users owns the rules for end-user accounts: how usernames are
// normalized and validated on every input path, and creating a user with its
// audit record. It knows nothing of HTTP; it imports store, audit, secret and
// clock.
package users
