// Package web is the portal's browser-facing HTTP layer: the Gin router (all
// routes in routes.go), the middleware every response passes through
// (security headers, sessions, CSRF, request logs, metrics, rate limits), and
// the handlers of the end users' pages: the enrollment steps (enroll_*.go,
// mounted under /enroll/{token} and, for inline enrollment, under the
// prompt), the Universal Prompt's pages (prompt*.go; its rules are package
// prompt, its application-facing endpoints internal/duo's oauth.go) and the
// activation links (activate.go). Handlers translate HTTP into calls of the
// domain packages (enroll, verify, users, prompt) and back; they hold no
// business rules, open no transaction and write no audit record
// (layering_test.go fails on any such call under internal/web).
//
// The admin section under /admin is package web/admin, registered from
// routes.go; the page renderer, error pages and CSRF check both use are
// package web/render.
//
// It must not be imported by the domain packages.
package web
