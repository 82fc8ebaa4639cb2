// Package web is the portal's browser-facing HTTP layer: the Gin router (all
// routes in routes.go), the middleware every response passes through
// (security headers, sessions, CSRF, request logs, metrics, rate limits), the
// page renderer, and the handlers of the enrollment pages. Handlers translate
// HTTP into calls of the domain packages (enroll, verify, users) and back;
// they hold no business rules.
//
// It must not be imported by the domain packages.
package web
