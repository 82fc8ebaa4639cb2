// Package prompt owns the rules of the Universal Prompt (Duo's OIDC-style
// browser login): checking the application's signed authorize request and
// client assertions (HS512 with the client secret, audience, expiry, and
// never the same assertion twice), the login transaction that carries a
// person from authorize through the prompt pages, the single-use
// authorization codes (random, stored hashed, 60 seconds, bound to the
// client and the redirect URI) and the claims of the id_token.
//
// The Universal Prompt lives in three rooms: this package holds its rules,
// internal/duo (oauth.go) speaks the wire format to the application, and
// internal/web (prompt*.go) shows the pages to the person. This one knows
// nothing of HTTP or pages. It imports store, secret,
// clock, audit, verify (a passcode is checked by the rules every login
// shares) and policy (the denial of a locked-out user); it must not import
// web or duo, and the caller passes the policy's decision on the login in.
package prompt
