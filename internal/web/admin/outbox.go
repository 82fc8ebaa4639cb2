package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminOutbox = render.Declare("admin_outbox")

const outboxPageSize = 50

// adminOutboxPage shows the outbox: every email and SMS, newest first. It
// never shows message bodies: they hold enrollment and activation links,
// which are bearer secrets that not every admin role may use.
type adminOutboxPage struct {
	Status   string
	Statuses []string
	Counts   map[string]int
	Messages []store.Message
	Total    int
	Offset   int
	Next     int // offset of the next page; 0 when none
	Prev     int // offset of the previous page; -1 when none
	// EmailOff and SMSOff say that the channel has no delivery configured,
	// so its messages wait here.
	EmailOff bool
	SMSOff   bool
}

// AdminOutboxGET lists the outbox, filtered by status.
func (s *Section) AdminOutboxGET(c *gin.Context) {
	ctx := c.Request.Context()
	page := adminOutboxPage{
		Status:   c.Query("status"),
		Statuses: []string{store.MessagePending, store.MessageSending, store.MessageSent, store.MessageFailed},
		Prev:     -1,
	}
	valid := page.Status == ""
	for _, st := range page.Statuses {
		valid = valid || st == page.Status
	}
	if !valid {
		page.Status = ""
	}
	page.Offset, _ = strconv.Atoi(c.Query("offset"))
	page.Offset = max(page.Offset, 0)
	var err error
	if page.Counts, err = s.store.CountMessagesByStatus(ctx); err != nil {
		s.ServerError(c, err)
		return
	}
	if page.Messages, page.Total, err = s.store.ListMessages(ctx, store.MessageFilter{Status: page.Status, Limit: outboxPageSize, Offset: page.Offset}); err != nil {
		s.ServerError(c, err)
		return
	}
	if page.Offset+outboxPageSize < page.Total {
		page.Next = page.Offset + outboxPageSize
	}
	if page.Offset > 0 {
		page.Prev = max(page.Offset-outboxPageSize, 0)
	}
	if s.notify != nil {
		page.EmailOff = !s.notify.Configured(store.ChannelEmail)
		page.SMSOff = !s.notify.Configured(store.ChannelSMS)
	}
	s.Render(c, http.StatusOK, viewAdminOutbox, render.Page{Title: "Outbox", Data: page})
}

// AdminOutboxRetryPOST makes a waiting or failed message due now, with a
// fresh count of attempts.
func (s *Section) AdminOutboxRetryPOST(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.adminDone(c, "There is no such message. Nothing was changed.", "/admin/outbox")
		return
	}
	m, err := s.notify.Retry(ctx, id, adminWho(c))
	if errors.Is(err, store.ErrNotFound) {
		s.adminDone(c, "That message is already sent or being sent, or no longer exists. Nothing was changed.", "/admin/outbox")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "The message to "+m.Recipient+" will be tried again now.", "/admin/outbox")
}
