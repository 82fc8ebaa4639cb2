package render

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"enrollportal/internal/secret"
)

// CSRFField is the hidden form field (and csrfHeader the header, for the
// security-key script) that carries the CSRF token; CSRFSession is where a
// session keeps it.
const (
	CSRFField   = "csrf_token"
	csrfHeader  = "X-CSRF-Token"
	CSRFSession = "csrf"
)

// CheckCSRF is the synchronizer-token check shared by the enrollment pages'
// session and the admin session: make sure sess has a token (for the forms a
// GET renders), and let a state-changing request through only with that
// token and no foreign Origin. The body is capped at bodyLimit bytes.
func (r *Renderer) CheckCSRF(c *gin.Context, sess *sessions.Session, bodyLimit int64) {
	token, _ := sess.Values[CSRFSession].(string)
	if token == "" {
		token = secret.NewToken()
		sess.Values[CSRFSession] = token
	}
	r.CheckCSRFToken(c, token, bodyLimit)
}

// CheckCSRFToken is CheckCSRF with the token the browser holds already
// known (a session's, or a signed CSRF cookie's): the forms a GET renders
// get it, and a state-changing request passes only with it and no foreign
// Origin.
func (r *Renderer) CheckCSRFToken(c *gin.Context, token string, bodyLimit int64) {
	c.Set(CSRFSession, token)
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bodyLimit)
	if origin := c.GetHeader("Origin"); origin != "" && origin != "null" && !r.sameOrigin(origin) {
		r.Forbidden(c)
		return
	}
	sent := c.GetHeader(csrfHeader)
	if sent == "" {
		sent = c.PostForm(CSRFField)
	}
	if sent == "" || !secret.Equal(sent, token) {
		r.log.Info("csrf token missing or wrong", "route", c.FullPath(), "ip", c.ClientIP())
		r.Forbidden(c)
		return
	}
	c.Next()
}

func (r *Renderer) sameOrigin(origin string) bool {
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	b, _ := url.Parse(r.baseURL)
	return o.Scheme == b.Scheme && o.Host == b.Host
}

// CSRFToken is the token of the request's session, for the forms of a page.
func CSRFToken(c *gin.Context) string { return c.GetString(CSRFSession) }
