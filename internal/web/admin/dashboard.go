package admin

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminDashboard = render.Declare("admin_dashboard")

// adminDashboard is the figures on the admin home page.
type adminDashboard struct {
	Counts  store.UserCounts
	Rollout rolloutChart
}

// AdminDashboardGET shows how far enrollment has come, and the notification
// bar when some users' smartphones or tablets are not activated.
func (s *Section) AdminDashboardGET(c *gin.Context) {
	ctx := c.Request.Context()
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	counts, err := s.store.CountUserFigures(ctx, s.clock.Now(), methods)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	group := c.Query("group")
	days, err := s.policy.Rollout(ctx, group, rolloutDays)
	if errors.Is(err, policy.ErrNoSuchScope) {
		group = ""
		days, err = s.policy.Rollout(ctx, "", rolloutDays)
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	chart := newRolloutChart(days)
	if chart.Groups, err = s.store.Groups(ctx); err != nil {
		s.ServerError(c, err)
		return
	}
	chart.Group = group
	for _, g := range chart.Groups {
		if g.Key == group {
			chart.GroupName = g.Name
		}
	}
	s.Render(c, http.StatusOK, viewAdminDashboard, render.Page{Title: "Dashboard", Data: adminDashboard{Counts: counts, Rollout: chart}})
}
