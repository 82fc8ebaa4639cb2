// Package audit names the events the portal records and builds the audit
// entries for them. Entries are written through the store in the same
// transaction as the change they describe, so a change and its record stand
// or fall together. It imports only store.
package audit
