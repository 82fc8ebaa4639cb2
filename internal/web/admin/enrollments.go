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

var (
	viewAdminEnrollments      = render.Declare("admin_enrollments")
	viewAdminEnrollmentDelete = render.Declare("admin_enrollment_delete")
)

const enrollmentsPageSize = 100

// adminEnrollmentsPage is one page of pending enrollments.
type adminEnrollmentsPage struct {
	Pending []store.PendingEnrollment
	Next    int64 // link id to continue after; 0 on the last page
	After   int64
}

// AdminEnrollmentsGET lists pending enrollments, oldest first.
func (s *Section) AdminEnrollmentsGET(c *gin.Context) {
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	rows, err := s.store.PendingEnrollments(c.Request.Context(), s.clock.Now(), after, enrollmentsPageSize+1)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := adminEnrollmentsPage{After: after}
	if len(rows) > enrollmentsPageSize {
		rows = rows[:enrollmentsPageSize]
		page.Next = rows[len(rows)-1].Link.ID
	}
	page.Pending = rows
	s.Render(c, http.StatusOK, viewAdminEnrollments, render.Page{Title: "Pending enrollments", Data: page})
}

// pendingLinkParam loads the pending link of the :id parameter; a link that
// is no longer pending sends the admin back to the list with a note.
func (s *Section) pendingLinkParam(c *gin.Context) (store.EnrollmentLink, store.User, bool) {
	ctx := c.Request.Context()
	var l store.EnrollmentLink
	err := store.ErrNotFound
	if id, perr := strconv.ParseInt(c.Param("id"), 10, 64); perr == nil {
		l, err = s.store.EnrollmentLinkByID(ctx, id)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.ServerError(c, err)
		return l, store.User{}, false
	}
	if err != nil || enroll.LinkState(l, s.clock.Now()) != nil {
		s.adminDone(c, "That enrollment is no longer pending: it was used, deleted or has expired. Nothing was changed.", "/admin/enrollments")
		return l, store.User{}, false
	}
	u, err := s.store.UserByID(ctx, l.UserID)
	if err != nil {
		s.ServerError(c, err)
		return l, u, false
	}
	return l, u, true
}

// AdminEnrollmentDeleteGET asks for confirmation before a pending
// enrollment is deleted: the list's Delete is a link to this page, so one
// stray click changes nothing.
func (s *Section) AdminEnrollmentDeleteGET(c *gin.Context) {
	l, u, ok := s.pendingLinkParam(c)
	if !ok {
		return
	}
	s.Render(c, http.StatusOK, viewAdminEnrollmentDelete, render.Page{Title: "Delete the pending enrollment of " + u.Username,
		Data: store.PendingEnrollment{Link: l, User: u}})
}

// AdminEnrollmentDeletePOST ends a pending enrollment: its link stops
// working at once. The user stays.
func (s *Section) AdminEnrollmentDeletePOST(c *gin.Context) {
	l, u, ok := s.pendingLinkParam(c)
	if !ok {
		return
	}
	err := s.enroll.DeletePendingLink(c.Request.Context(), u, l, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "The pending enrollment of "+u.Username+" was deleted; its link no longer works.", "/admin/enrollments")
}
