package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
)

var viewAdminDashboard = declareView("admin_dashboard")

// adminDashboard is the figures on the admin home page.
type adminDashboard struct {
	Counts store.UserCounts
}

// AdminDashboardGET shows how far enrollment has come, and the notification
// bar when some users' smartphones or tablets are not activated.
func (s *Server) AdminDashboardGET(c *gin.Context) {
	counts, err := s.store.CountUserFigures(c.Request.Context(), s.clock.Now())
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.render(c, http.StatusOK, viewAdminDashboard, Page{Title: "Dashboard", Data: adminDashboard{Counts: counts}})
}
