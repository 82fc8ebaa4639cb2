// Package notify owns every email and SMS the portal sends: the default
// texts and the admin-edited ones (plain text with literal placeholders,
// never templates that can run code), composing them into outbox messages
// that carry the organisation's non-editable header line, and the outbox
// worker that delivers them by SMTP or an SMS gateway with retries.
//
// Callers never send anything themselves: they build a store.Message with
// the builders here and write it with Enqueue inside the same transaction as
// the change that caused it. The worker delivers it later.
//
// It imports store, audit, org, secret and clock of the project; it must
// not import web or any HTTP handler package.
package notify
