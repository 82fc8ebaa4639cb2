// Package assets holds the portal's static files (style sheet, scripts,
// images), embedded in the binary and served under /assets/ with a content
// hash in the URL so browsers may cache them for good.
package assets

import "embed"

// FS holds every asset.
//
//go:embed *.css *.js *.svg
var FS embed.FS
