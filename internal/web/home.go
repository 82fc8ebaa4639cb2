package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Home is the portal's front page: where to start.
func (s *Server) Home(c *gin.Context) {
	s.render(c, http.StatusOK, viewHome, Page{Title: "Two-factor enrollment"})
}
