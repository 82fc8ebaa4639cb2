package render

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"enrollportal/internal/secret"
)

// NewSessionStore makes a cookie store of sessions: signed and encrypted
// with keys derived from the at-rest key under keyName (keyName-hash,
// keyName-block), HttpOnly, limited to path, Secure when the portal is
// served over HTTPS. Each section of the site has its own keys, path and
// SameSite rule.
func NewSessionStore(box *secret.Box, keyName, path string, maxAge time.Duration, sameSite http.SameSite, secure bool) *sessions.CookieStore {
	cs := sessions.NewCookieStore(box.SubKey(keyName+"-hash"), box.SubKey(keyName + "-block")[:32])
	cs.Options = &sessions.Options{
		Path:     path,
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: sameSite,
	}
	return cs
}

// LoadSession loads the session of cookie from cs (a fresh one when the
// cookie is missing, or signed with an old key or tampered with), puts it in
// the request's context under key, marks it to be saved before the response
// is written, and runs the handlers that follow.
func LoadSession(c *gin.Context, cs *sessions.CookieStore, cookie, key string) {
	sess, err := cs.Get(c.Request, cookie)
	if err != nil {
		sess, _ = cs.New(c.Request, cookie)
	}
	c.Set(key, sess)
	KeepSession(c, sess)
	c.Next()
}

// SessionString is the string kept under key in sess, or "".
func SessionString(sess *sessions.Session, key string) string {
	v, _ := sess.Values[key].(string)
	return v
}

// SessionInt is the int64 kept under key in sess, or 0.
func SessionInt(sess *sessions.Session, key string) int64 {
	v, _ := sess.Values[key].(int64)
	return v
}
