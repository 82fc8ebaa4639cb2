package web

import "github.com/gin-gonic/gin"

// enrollRoutes registers the enrollment-link pages.
func (s *Server) enrollRoutes(pages *gin.RouterGroup) {
	_ = pages
}
