// Package policy owns the policy model and its evaluation: which settings
// apply to a user of an application (global -> application -> group
// override), and what an authentication request gets (auth, allow, deny or
// enroll) given the user's status, enrollment, groups and location.
//
// Evaluate is a pure function; Service gathers its inputs (policies, groups,
// factors, the GeoIP country of an address) from the store. The package
// knows nothing of HTTP or Duo's wire formats; it imports store, users,
// clock and the GeoIP reader only.
package policy
