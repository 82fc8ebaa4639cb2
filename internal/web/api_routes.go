package web

import "github.com/gin-gonic/gin"

// APIRoutes is an API that registers its own routes and authenticates each
// call itself (the Duo-compatible APIs check request signatures), so it
// sits outside the session and CSRF middleware.
type APIRoutes interface {
	Register(r gin.IRouter)
}

func (s *Server) apiRoutes(r gin.IRouter) {
	if s.duoAPI != nil {
		s.duoAPI.Register(r)
	}
}
