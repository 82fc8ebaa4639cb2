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
	if s.duoAPI != nil {
		s.duoAPI.Register(r)
	}
}

// apiUnmatched lets the API answer its own unknown paths: its clients read
// JSON or BSON, never an HTML page.
func (s *Server) apiUnmatched(c *gin.Context, status int) bool {
	return s.duoAPI != nil && s.duoAPI.Unmatched(c, status)
}
