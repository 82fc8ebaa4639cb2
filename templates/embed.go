// Package templates holds the portal's HTML page templates, embedded in the
// binary. layout.html is the frame of every page; each other file defines
// the "title" and "content" of one page.
package templates

import "embed"

// FS holds every template.
//
//go:embed *.html
var FS embed.FS
