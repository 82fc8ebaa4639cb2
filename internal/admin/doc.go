// Package admin owns the accounts of the admin section and the rules about
// them: the role matrix (who may do what), admin passwords (argon2id), the
// admin's own second factor (TOTP), the sign-in slowdown after wrong tries,
// session revocation (a generation on the admin row), and the one-time owner
// setup link printed at first start.
//
// It knows nothing of HTTP, templates or cookies: the admin pages, their
// session and the middleware that enforces the matrix on every admin route
// are package internal/web/admin. It must not import web, duo or notify.
package admin
