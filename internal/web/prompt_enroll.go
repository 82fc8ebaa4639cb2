package web

import "github.com/gin-gonic/gin"

// promptEnrollRoutes mounts inline enrollment under the prompt.
func (s *Server) promptEnrollRoutes(g gin.IRouter) {}
