package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
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
	if !enroll.HasValidEmail(u) {
		s.refuseSend(c, u, u.Username+" has no valid email address, so no reset was sent. Add an address on the edit page, or run portal enroll-link "+u.Username+" --reset and hand the link over yourself.")
		return
	}
	issued, _, err := s.enroll.SendResetLink(c.Request.Context(), u, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	s.adminDone(c, "A reset was sent to "+u.Email+": its link adds the next device without a code from the old one, until "+
		formatWhen(issued.Link.ExpiresAt)+". Older enrollment links no longer work.", "/admin/users/"+u.Key)
}

var viewAdminBypassCodes = render.Declare("admin_bypass_codes")

// bypassValidity is what the validity menu offers, in hours; 0 is never.
var bypassValidity = []struct {
	Value string
	Label string
	TTL   time.Duration
}{
	{"1", "1 hour", time.Hour},
	{"8", "8 hours", 8 * time.Hour},
	{"24", "24 hours", 24 * time.Hour},
	{"72", "3 days", 72 * time.Hour},
	{"168", "7 days", 168 * time.Hour},
	{"720", "30 days", 720 * time.Hour},
	{"never", "Never expire", 0},
}

// bypassForm reads the bypass-code form: how many, how many uses each,
// how long they work.
func bypassForm(c *gin.Context) (factors.BypassOptions, bool) {
	count, err1 := strconv.Atoi(strings.TrimSpace(c.PostForm("count")))
	uses, err2 := strconv.Atoi(strings.TrimSpace(c.PostForm("uses")))
	if err1 != nil || err2 != nil {
		return factors.BypassOptions{}, false
	}
	for _, v := range bypassValidity {
		if v.Value == c.PostForm("valid") {
			return factors.BypassOptions{Count: count, Uses: uses, TTL: v.TTL}, true
		}
	}
	return factors.BypassOptions{}, false
}

type bypassCodesPage struct {
	User      store.User
	Codes     []string
	Uses      int
	ExpiresAt *time.Time
}

// AdminUserBypassCodesPOST makes bypass codes for a user and shows them,
// once: only their hashes are kept.
func (s *Section) AdminUserBypassCodesPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	o, ok := bypassForm(c)
	var codes []string
	var err error
	if ok {
		codes, err = s.factors.IssueBypassCodes(ctx, u, o, adminWho(c))
	}
	if !ok || errors.Is(err, factors.ErrInvalidBypassOptions) {
		d, err := s.userDetail(ctx, u)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		d.BypassError = fmt.Sprintf("Choose 1 to %d codes, each working 1 to %d times, and how long they work. Nothing was made.",
			factors.MaxBypassCodes, factors.MaxBypassUses)
		s.Render(c, http.StatusUnprocessableEntity, viewAdminUser, render.Page{Title: u.Username, Data: d})
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	p := bypassCodesPage{User: u, Codes: codes, Uses: o.Uses}
	if o.TTL > 0 {
		t := s.clock.Now().Add(o.TTL)
		p.ExpiresAt = &t
	}
	c.Header("Cache-Control", "no-store")
	s.Render(c, http.StatusOK, viewAdminBypassCodes, render.Page{Title: "Bypass codes for " + u.Username, Data: p})
}

// AdminUserBypassCodesClearPOST removes every bypass and recovery code of
// a user.
func (s *Section) AdminUserBypassCodesClearPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	n, err := s.factors.ClearBypassCodes(c.Request.Context(), u, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, fmt.Sprintf("Removed %d bypass codes of %s; none of them works any more.", n, u.Username), "/admin/users/"+u.Key)
}
