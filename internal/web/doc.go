// Package web is the portal's browser-facing HTTP layer: the Gin router (all
// routes in routes.go), the middleware every response passes through
// (security headers, sessions, CSRF, request logs, metrics, rate limits), the
// page renderer, and the handlers of the browser pages: the enrollment steps
// (enroll_*.go, mounted under /enroll/{token} and, for inline enrollment,
// under the prompt), the Universal Prompt's pages (prompt*.go), the
// activation links (activate.go) and the admin section (admin_*.go). Handlers translate HTTP into calls of the domain
// packages (enroll, verify, users, admin) and back; they hold no business
// rules.
//
// Admin routes live under /admin with their own session (admin_session.go)
// and are registered only through adminHandle, which attaches requireAdmin
// with the route's permission from the role matrix, or adminPublic for the
// sign-in steps; a test walks the router and fails on any other /admin route.
//
// It must not be imported by the domain packages.
package web
