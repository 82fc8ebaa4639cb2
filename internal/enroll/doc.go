// Package enroll owns the rules of self-enrollment: issuing and opening
// enrollment links, setting up an authenticator app on a phone or tablet
// (the pending secret kept server-side until the first code proves it), and
// registering a security key. It also owns the admin side of phones: adding
// a phone or tablet to a user, and activating it through an activation link
// sent by SMS or email (activation.go, activation_send.go), and the Admin
// API's enrollment and phones (api_*.go). The device page's changes
// (devices.go), the proof of a device the user has before a new one is
// added (proof.go), security-key sign-ins (keylogin.go) and enrollment
// inside the Universal Prompt (inline.go) are its rules too. Every change
// it makes is one transaction with its audit record. A clock is passed in so
// expiry is testable.
//
// It knows nothing of HTTP, templates or Duo's formats; it imports store,
// audit, verify, users, notify (to compose the activation messages it
// queues), org, policy (what "enrolled" means, the status gate), secret
// and clock.
package enroll
