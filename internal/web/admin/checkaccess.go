package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminCheckAccess = render.Declare("admin_check_access")

type adminCheckAccessPage struct {
	Apps      []store.Application
	Countries []policy.Country
	Username  string
	AppID     int64
	Country   string
	// Matches are users whose name starts with what was typed, to pick
	// from.
	Matches []store.UserRow
	Check   *policy.Check
	Level   string
	Reason  string
	Errors  map[string]string
	GeoIP   bool
}

// AdminCheckAccessGET answers "what would this user get signing in to this
// application", with the same decision a login makes. It changes nothing,
// so it is a GET every role may use.
func (s *Section) AdminCheckAccessGET(c *gin.Context) {
	ctx := c.Request.Context()
	apps, err := s.store.Applications(ctx)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := adminCheckAccessPage{Apps: apps, Countries: policy.Countries, GeoIP: s.policy.GeoIP != nil,
		Username: strings.TrimSpace(c.Query("username")), Country: c.Query("country")}
	page.AppID, _ = strconv.ParseInt(c.Query("application"), 10, 64)
	if page.AppID == 0 && len(apps) > 0 {
		page.AppID = apps[0].ID
	}
	if c.Query("username") == "" && c.Query("application") == "" {
		s.Render(c, http.StatusOK, viewAdminCheckAccess, render.Page{Title: "Check access", Data: page})
		return
	}
	if page.Username != "" {
		if page.Matches, err = s.store.SearchUsers(ctx, store.UserQuery{Prefix: page.Username, Limit: 10}); err != nil {
			s.ServerError(c, err)
			return
		}
	}
	check, err := s.policy.CheckAccess(ctx, page.Username, page.AppID, page.Country)
	if errs, ok := policyFieldErrors(err); ok {
		page.Errors = errs
		s.Render(c, http.StatusUnprocessableEntity, viewAdminCheckAccess, render.Page{Title: "Check access", Data: page})
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page.Check, page.Level, page.Reason = &check, levelLabel(check.Level), policy.ReasonLabel(check.Decision.Reason)
	s.Render(c, http.StatusOK, viewAdminCheckAccess, render.Page{Title: "Check access", Data: page})
}
