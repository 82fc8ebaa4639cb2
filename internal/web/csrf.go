package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/secret"
)

// csrfCookie holds the browser pages' CSRF token, apart from the session:
// a random value and its MAC under a key of the portal's, HttpOnly and
// SameSite=Lax like the session. Forms carry the same value (a signed
// double-submit token). Kept out of the session so that a first visit,
// such as opening an emailed link, costs no session encryption: the
// session cookie is only written once there is something to remember.
const csrfCookie = "portal_csrf"

// csrfMAC is the MAC that signs a CSRF cookie's random part.
func (s *Server) csrfMAC(random string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(random))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// csrfFromCookie returns the request's CSRF token when its cookie carries a
// correctly signed one.
func (s *Server) csrfFromCookie(c *gin.Context) (string, bool) {
	ck, err := c.Request.Cookie(csrfCookie)
	if err != nil {
		return "", false
	}
	random, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || random == "" || !secret.Equal(mac, s.csrfMAC(random)) {
		return "", false
	}
	return ck.Value, true
}

// csrf protects every state-changing request of the browser pages with the
// token of the CSRF cookie, sent back in the form (or a header), and
// refuses requests whose Origin is another site. GET and HEAD are let
// through (they change nothing) after making sure the browser has a token
// for the forms they render.
func (s *Server) csrf(c *gin.Context) {
	token, ok := s.csrfFromCookie(c)
	if !ok {
		random := secret.NewToken()
		token = random + "." + s.csrfMAC(random)
		http.SetCookie(c.Writer, &http.Cookie{
			Name: csrfCookie, Value: token, Path: "/", MaxAge: sessionMaxAge,
			HttpOnly: true, Secure: s.sessions.Options.Secure, SameSite: http.SameSiteLaxMode,
		})
	}
	s.pages.CheckCSRFToken(c, token, 64<<10)
}
