// Package render is the frame both halves of the browser-facing web layer
// share: the enrollment and Universal Prompt pages (package web) and the
// admin section (package web/admin). It parses the templates, renders a page
// or one of the error pages, checks the CSRF token of forms, keeps the
// organisation's logo for every page's header, and saves the request's
// session cookies before a body is written.
//
// It knows no routes and no business rules, and imports neither web nor
// web/admin, so both can use it.
package render
