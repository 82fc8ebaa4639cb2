package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"enrollportal/internal/secret"
	"enrollportal/internal/web/render"
)

// sessionMaxAge is how long, in seconds, the browser keeps the session and
// CSRF cookies.
const sessionMaxAge = 12 * 60 * 60

const (
	sessionCookie = "portal_session"
	sessionKey    = "session"
)

// newSessionStore makes the cookie store of browser sessions: signed and
// encrypted with keys derived from the at-rest key, HttpOnly, SameSite=Lax,
// Secure when the portal is served over HTTPS. The cookie holds only
// handles (a CSRF token, the id of the link being used, the key of a
// server-side challenge); secrets stay in the database.
func newSessionStore(box *secret.Box, secure bool) *sessions.CookieStore {
	return render.NewSessionStore(box, "session", "/", sessionMaxAge*time.Second, http.SameSiteLaxMode, secure)
}

// withSession loads the browser session (a fresh one when the cookie is
// missing or does not verify) for the handlers that follow.
func (s *Server) withSession(c *gin.Context) {
	render.LoadSession(c, s.sessions, sessionCookie, sessionKey)
}

func session(c *gin.Context) *sessions.Session {
	return c.MustGet(sessionKey).(*sessions.Session)
}

// saveSession writes the session cookie; call it before writing the body.
func (s *Server) saveSession(c *gin.Context) error {
	return session(c).Save(c.Request, c.Writer)
}

func sessionString(c *gin.Context, key string) string { return render.SessionString(session(c), key) }

func sessionInt(c *gin.Context, key string) int64 { return render.SessionInt(session(c), key) }
