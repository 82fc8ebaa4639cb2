// Package policy owns the policy model and its evaluation: which settings
// apply to a user of an application (global -> application -> group
// override), and what an authentication request gets (auth, allow, deny or
// enroll) given the user's status, enrollment, groups and location.
//
// Evaluate is a pure function; Service gathers its inputs (policies, groups,
// factors, the GeoIP country of an address) from the store. The admin
// pages change access through Change: Preview evaluates every user before
// and after with the same Evaluate (ComputeImpact), Apply saves it in one
// transaction with its audit record, and CheckAccess answers "what would
// this sign-in get, and which level decided it". The package knows nothing
// of HTTP or Duo's wire formats; it imports store, users, audit, secret,
// clock, verify (the lockout's error, for the status gate), the GeoIP
// reader and the language tables (country names) only.
package policy
