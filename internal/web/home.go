package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/org"
)

// Home is the portal's front page: where to start.
func (s *Server) Home(c *gin.Context) {
	// Until an admin names the organisation, "people at Enrollment Portal"
	// would name the software, not the people's employer.
	named := s.mustOrg(c.Request.Context()) != org.DefaultName
	s.render(c, http.StatusOK, viewHome, Page{Title: "Two-factor enrollment", Data: homePage{OrgNamed: named}})
}

// homePage is what the front page needs besides the frame.
type homePage struct {
	// OrgNamed is false while the organisation has the default name.
	OrgNamed bool
}
