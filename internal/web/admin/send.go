package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/web/render"
)

// errNoEmail means the user has no address an enrollment email could go to.
var errNoEmail = errors.New("web: user has no valid email address")

func hasValidEmail(u store.User) bool {
	return u.Email != "" && users.ValidateEmail(u.Email) == nil
}

// queueEnrollmentEmail writes the n-th send of link l (whose token is token)
// to u's current address, marks the link sent and records it, all through q.
func (s *Section) queueEnrollmentEmail(ctx context.Context, q store.Queries, u store.User, l store.EnrollmentLink, token string, n int, who audit.Who) error {
	now := s.clock.Now()
	org, err := s.notify.Org(ctx, q)
	if err != nil {
		return err
	}
	msg := notify.EnrollmentEmail(org, u, s.enroll.LinkURL(token), l.ExpiresAt, nil)
	msg.IntentKey = notify.EnrollLinkIntent(l.ID, n)
	if _, err := notify.Enqueue(ctx, q, msg, now); err != nil {
		return err
	}
	if err := q.MarkLinkSent(ctx, l.ID, now); err != nil {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(now, who, audit.EnrollmentEmailQueued, audit.TargetUser, u.Username,
		map[string]any{"link_id": l.ID, "to": u.Email, "send": n}))
}

// AdminUserEnrollmentEmailPOST issues a fresh enrollment link for a user
// (ending any older one) and writes the email to the outbox, in one
// transaction.
func (s *Section) AdminUserEnrollmentEmailPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if !hasValidEmail(u) {
		d, err := s.userDetail(ctx, u)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		d.SendError = u.Username + " has no valid email address, so no enrollment email was sent. Add an address on the edit page, then send again."
		s.Render(c, http.StatusUnprocessableEntity, viewAdminUser, render.Page{Title: u.Username, Data: d})
		return
	}
	who := adminWho(c)
	var issued enroll.IssuedLink
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if issued, err = s.enroll.IssueLinkTx(ctx, q, u, 0, who); err != nil {
			return err
		}
		return s.queueEnrollmentEmail(ctx, q, u, issued.Link, issued.Token, 1, who)
	})
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

// resendTx sends pending link l again: the same link (its token is derived
// again from the stored salt) and the same expiry, to the user's current
// address.
func (s *Section) resendTx(ctx context.Context, q store.Queries, u store.User, l store.EnrollmentLink, who audit.Who) error {
	if !hasValidEmail(u) {
		return errNoEmail
	}
	sent, err := q.CountMessagesWithIntentPrefix(ctx, fmt.Sprintf("enroll-link:%d:send:", l.ID))
	if err != nil {
		return err
	}
	return s.queueEnrollmentEmail(ctx, q, u, l, s.enroll.LinkToken(l), sent+1, who)
}

// AdminEnrollmentResendPOST sends one pending enrollment's link again.
func (s *Section) AdminEnrollmentResendPOST(c *gin.Context) {
	l, u, ok := s.pendingLinkParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	who := adminWho(c)
	err := s.store.InTx(ctx, func(q store.Queries) error { return s.resendTx(ctx, q, u, l, who) })
	if errors.Is(err, errNoEmail) {
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

// resendBatch is how many pending enrollments one transaction of "resend
// all" covers, so that a large resend does not hold the write lock long.
const resendBatch = 200

// AdminEnrollmentsResendAllPOST sends every pending enrollment's link again.
// Users without a valid address are skipped and counted.
func (s *Section) AdminEnrollmentsResendAllPOST(c *gin.Context) {
	ctx := c.Request.Context()
	who := adminWho(c)
	var sent, skipped int
	var after int64
	for {
		batch, err := s.store.PendingEnrollments(ctx, s.clock.Now(), after, resendBatch)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		if len(batch) == 0 {
			break
		}
		var bs, bk int
		err = s.store.InTx(ctx, func(q store.Queries) error {
			bs, bk = 0, 0
			for _, p := range batch {
				switch err := s.resendTx(ctx, q, p.User, p.Link, who); {
				case errors.Is(err, errNoEmail):
					bk++
				case err != nil:
					return err
				default:
					bs++
				}
			}
			return nil
		})
		if err != nil {
			s.ServerError(c, err)
			return
		}
		sent, skipped = sent+bs, skipped+bk
		after = batch[len(batch)-1].Link.ID
		if len(batch) < resendBatch {
			break
		}
	}
	s.notify.Wake()
	msg := "Sent " + strconv.Itoa(sent) + " pending enrollment links again."
	if skipped > 0 {
		msg += " " + strconv.Itoa(skipped) + " users have no valid email address and were skipped."
	}
	s.adminDone(c, msg, "/admin/enrollments")
}
