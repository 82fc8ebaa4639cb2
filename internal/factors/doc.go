// Package factors manages the second factors that are not enrolled by the
// user on a device: bypass codes that admins issue (and the recovery codes
// users make for themselves on the device page), and OATH hardware tokens.
// It issues, lists, deletes and clears codes, and imports, adds, assigns,
// unassigns, resyncs and deletes tokens, with their audit records, in one
// transaction each; the checks at login are verify's
// (verify.CheckPasscode), which look codes up by the same keyed hash. The
// admin pages and the Admin API both call it.
// It knows nothing of HTTP; it imports store, audit, secret, clock, users,
// notify, policy and verify.
package factors
