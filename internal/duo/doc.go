// Package duo is the wire layer of the Duo-compatible APIs that Unix hosts
// and applications call: request signatures (v1, v2, v5), the legacy REST
// v1 in BSON that Debian's login_duo and pam_duo 1.11 speak, and Auth API
// v2 (duo_api_golang's authapi, duo_unix 2.x), and the Universal Prompt's
// client-facing endpoints (oauth.go: health_check, authorize, token, whose
// rules live in package prompt; the pages the person sees between authorize
// and token are internal/web's prompt*.go). It checks who is calling,
// decodes and validates parameters, and translates each call into policy,
// verify, enroll and factors calls, answering in Duo's envelopes.
//
// With web, it is the only package that knows HTTP. It holds no business
// rules of its own: who must enroll is policy's, what a passcode is worth is
// verify's, what an enrollment URL is is enroll's, what a sign-in
// transaction or an id_token holds is prompt's. It must not import web.
package duo
