// Package admin is the admin section of the web layer: the pages under
// /admin, their own session (session.go), CSRF token and sign-in steps, and
// the role middleware. The accounts and roles themselves (who may do what,
// passwords, TOTP) are the domain package enrollportal/internal/admin: in
// this package's files, admin.X always means that domain package.
//
// Routes are registered only through adminHandle, which attaches
// requireAdmin with the route's permission from the role matrix, or
// adminPublic for the sign-in steps; a test walks the router and fails on
// any other /admin route. Pages are rendered with package web/render, shared
// with the enrollment pages.
package admin
