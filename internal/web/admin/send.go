package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

// AdminUserEnrollmentEmailPOST issues a fresh enrollment link for a user
// (ending any older one) and writes the email to the outbox, in one
// transaction.
func (s *Section) AdminUserEnrollmentEmailPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	if !enroll.HasValidEmail(u) {
		s.refuseSend(c, u, u.Username+" has no valid email address, so no enrollment email was sent. Add an address on the edit page, then send again.")
		return
	}
	issued, err := s.enroll.SendLinkEmail(c.Request.Context(), u, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	msg := "An enrollment email to " + u.Email + " was queued for sending. The link works until " + formatWhen(issued.Link.ExpiresAt) + "."
	if issued.Revoked > 0 {
		msg += " The link sent before no longer works."
	}
	s.adminDone(c, msg, "/admin/users/"+u.Key)
}

// refuseSend shows u's page again with why nothing was sent, which
// changed nothing.
func (s *Section) refuseSend(c *gin.Context, u store.User, why string) {
	d, err := s.userDetail(c.Request.Context(), u)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	d.SendError = why
	s.Render(c, http.StatusUnprocessableEntity, viewAdminUser, render.Page{Title: u.Username, Data: d})
}

// AdminEnrollmentResendPOST sends one pending enrollment's link again.
func (s *Section) AdminEnrollmentResendPOST(c *gin.Context) {
	l, u, ok := s.pendingLinkParam(c)
	if !ok {
		return
	}
	err := s.enroll.ResendLinkEmail(c.Request.Context(), u, l, adminWho(c))
	if errors.Is(err, enroll.ErrNoEmail) {
		s.adminDone(c, u.Username+" has no valid email address, so nothing was sent. Add an address on their edit page first.", "/admin/enrollments")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	s.adminDone(c, "The enrollment link of "+u.Username+" was sent again to "+u.Email+". It still works until "+formatWhen(l.ExpiresAt)+".", "/admin/enrollments")
}

// AdminEnrollmentsResendAllPOST sends every pending enrollment's link again.
// Users without a valid address are skipped and counted.
func (s *Section) AdminEnrollmentsResendAllPOST(c *gin.Context) {
	sent, skipped, err := s.enroll.ResendAllPending(c.Request.Context(), adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	msg := "Sent " + strconv.Itoa(sent) + " pending enrollment links again."
	if skipped > 0 {
		msg += " " + strconv.Itoa(skipped) + " users have no valid email address and were skipped."
	}
	s.adminDone(c, msg, "/admin/enrollments")
}
