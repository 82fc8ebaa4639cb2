package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewEnrollExpired = render.Declare("enroll_expired")
	viewEnrollRenewed = render.Declare("enroll_renewed")
)

type expiredPage struct {
	Token string
	Offer bool   // a fresh link may be emailed
	Email string // the address on file, masked
}

// maskEmail shows enough of an address for its owner to recognise it.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return "your email address"
	}
	return local[:1] + strings.Repeat("•", min(len(local)-1, 6)) + "@" + domain
}

// showExpiredLink explains an expired link and, where the organisation
// allows it, offers to email a fresh one to the address on file.
func (s *Server) showExpiredLink(c *gin.Context, token string) {
	page := expiredPage{Token: token}
	if l, u, err := s.enroll.OpenLink(c.Request.Context(), token); errors.Is(err, enroll.ErrLinkExpired) && s.enroll.CanRenew(c.Request.Context(), l, u) {
		page.Offer, page.Email = true, maskEmail(u.Email)
	}
	s.render(c, http.StatusGone, viewEnrollExpired, Page{Title: "This enrollment link has expired", Help: helpEnroll, Data: page})
	c.Abort()
}

type renewedPage struct {
	Email    string
	TooSoon  bool
	Attempts int
}

// EnrollRenewPOST emails a fresh link for an expired one. The link and its
// email are written in one transaction; the outbox worker sends it.
func (s *Server) EnrollRenewPOST(c *gin.Context) {
	token := c.Param("token")
	ip := c.ClientIP()
	if s.linkTries.Exhausted(ip) {
		s.tooManyRequests(c, int(s.linkTries.RetryAfter().Seconds()))
		return
	}
	ctx := c.Request.Context()
	who := audit.Who{Type: audit.ActorUser, IP: ip}
	issued, err := s.enroll.RenewExpiredLink(ctx, token, who, func(q store.Queries, l enroll.IssuedLink) error {
		org, err := s.notify.Org(ctx, q)
		if err != nil {
			return err
		}
		m := notify.EnrollmentEmail(org, l.User, l.URL, l.Link.ExpiresAt, nil)
		m.IntentKey = notify.EnrollLinkIntent(l.Link.ID, 1)
		_, err = notify.Enqueue(ctx, q, m, s.clock.Now())
		return err
	})
	switch {
	case err == nil:
		s.notify.Wake()
		s.render(c, http.StatusOK, viewEnrollRenewed, Page{Title: "Check your email", Help: helpEnroll,
			Data: renewedPage{Email: maskEmail(issued.User.Email)}})
	case errors.Is(err, enroll.ErrRenewTooSoon):
		s.render(c, http.StatusTooManyRequests, viewEnrollRenewed, Page{Title: "Check your email", Help: helpEnroll,
			Data: renewedPage{TooSoon: true}})
	case errors.Is(err, enroll.ErrLinkNotFound):
		s.linkTries.Allow(ip)
		s.showEnrollmentProblem(c, err)
	case errors.Is(err, enroll.ErrRenewUnavailable):
		s.showError(c, http.StatusGone, "A new link cannot be sent",
			"We cannot email a new link for this one: it is not expired, or there is no email address for you.",
			"Ask your help desk to send you a new enrollment link.")
	default:
		s.serverError(c, err)
	}
}
