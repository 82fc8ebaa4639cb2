package web

import "github.com/gin-gonic/gin"

// APIRoutes is an API that registers its own routes and authenticates each
// call itself (the Duo-compatible APIs check request signatures), so it
// sits outside the session and CSRF middleware.
type APIRoutes interface {
	Register(r gin.IRouter)
	// Unmatched answers a request under the API's paths that matched no
	// route (status 404) or no method (405) in the API's own error format,
	// and reports whether it did.
	Unmatched(c *gin.Context, status int) bool
}

func (s *Server) apiRoutes(r gin.IRouter) {
	for _, api := range s.apis() {
		api.Register(r)
	}
}

// apis are the APIs that are wired.
func (s *Server) apis() []APIRoutes {
	var out []APIRoutes
	for _, api := range []APIRoutes{s.duoAPI, s.adminAPI} {
		if api != nil {
			out = append(out, api)
		}
	}
	return out
}

// apiUnmatched lets the APIs answer their own unknown paths: their clients
// read JSON or BSON, never an HTML page.
func (s *Server) apiUnmatched(c *gin.Context, status int) bool {
	for _, api := range s.apis() {
		if api.Unmatched(c, status) {
			return true
		}
	}
	return false
}
