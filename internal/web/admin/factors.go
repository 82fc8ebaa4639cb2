package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/web/render"
)

// AdminUserResetPOST answers a lost phone: a fresh enrollment link that
// lets the next device in without proof of an existing one, emailed to the
// user through the outbox (enroll.SendResetLink).
func (s *Section) AdminUserResetPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if !enroll.HasValidEmail(u) {
		d, err := s.userDetail(ctx, u)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		d.SendError = u.Username + " has no valid email address, so no reset was sent. Add an address on the edit page, or run portal enroll-link " + u.Username + " --reset and hand the link over yourself."
		s.Render(c, http.StatusUnprocessableEntity, viewAdminUser, render.Page{Title: u.Username, Data: d})
		return
	}
	issued, _, err := s.enroll.SendResetLink(ctx, u, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	s.adminDone(c, "A reset was sent to "+u.Email+": its link adds the next device without a code from the old one, until "+
		formatWhen(issued.Link.ExpiresAt)+". Older enrollment links no longer work.", "/admin/users/"+u.Key)
}
