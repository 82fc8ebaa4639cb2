package web

import (
	"net/http"
	"net/url"

	"github.com/gorilla/sessions"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/secret"
)

// csrfField is the hidden form field (and csrfHeader the header, for the
// security-key script) that carries the CSRF token.
const (
	csrfField   = "csrf_token"
	csrfHeader  = "X-CSRF-Token"
	csrfSession = "csrf"
)

// csrf protects every state-changing request of the browser pages with a
// synchronizer token bound to the session, and refuses requests whose Origin
// is another site. GET and HEAD are let through (they change nothing) after
// making sure the session has a token for the forms they render.
func (s *Server) csrf(c *gin.Context) {
	s.checkCSRF(c, session(c), 64<<10)
}

// checkCSRF is the synchronizer-token check shared by the enrollment pages'
// session and the admin session: make sure sess has a token (for the forms a
// GET renders), and let a state-changing request through only with that
// token and no foreign Origin. The body is capped at bodyLimit bytes.
func (s *Server) checkCSRF(c *gin.Context, sess *sessions.Session, bodyLimit int64) {
	token, _ := sess.Values[csrfSession].(string)
	if token == "" {
		token = secret.NewToken()
		sess.Values[csrfSession] = token
	}
	c.Set(csrfSession, token)
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bodyLimit)
	if origin := c.GetHeader("Origin"); origin != "" && origin != "null" && !s.sameOrigin(origin) {
		s.forbidden(c)
		return
	}
	sent := c.GetHeader(csrfHeader)
	if sent == "" {
		sent = c.PostForm(csrfField)
	}
	if sent == "" || !secret.Equal(sent, token) {
		s.log.Info("csrf token missing or wrong", "route", c.FullPath(), "ip", c.ClientIP())
		s.forbidden(c)
		return
	}
	c.Next()
}

func (s *Server) sameOrigin(origin string) bool {
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	b, _ := url.Parse(s.baseURL)
	return o.Scheme == b.Scheme && o.Host == b.Host
}

func csrfToken(c *gin.Context) string { return c.GetString(csrfSession) }
