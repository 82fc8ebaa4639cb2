package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
)

// errorPage is what the error template shows: what happened, and what to do.
type errorPage struct {
	Heading string
	Message string
	Next    string
}

// showError renders the one error page. Never pass err.Error() as message:
// causes go to the log, sentences to the user.
func (s *Server) showError(c *gin.Context, status int, heading, message, next string) {
	s.render(c, status, viewError, Page{Title: heading, Data: errorPage{Heading: heading, Message: message, Next: next}})
	c.Abort()
}

// serverError logs cause and shows the generic failure page, or, when the
// database did not answer before the request's deadline (a login page
// under a write-locked database), a 503 page that says to try again.
func (s *Server) serverError(c *gin.Context, cause error) {
	if store.Busy(cause) {
		s.log.Warn("request failed: database busy", "route", c.FullPath(), "err", cause)
		c.Header("Retry-After", "5")
		s.showError(c, http.StatusServiceUnavailable, "The portal is busy",
			"The service is busy right now, so this step could not be finished. Nothing was changed.",
			"Please try again in a minute.")
		return
	}
	if cause != nil {
		s.log.Error("request failed", "route", c.FullPath(), "err", cause)
	}
	s.showError(c, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side and nothing was changed.",
		"Please try again in a minute. If it keeps happening, contact your help desk.")
}

func (s *Server) forbidden(c *gin.Context) {
	s.showError(c, http.StatusForbidden, "This form has expired",
		"For your safety, this page could not accept the form you sent.",
		"Go back, reload the page, and try again.")
}

func (s *Server) notFound(c *gin.Context) {
	if s.apiUnmatched(c, http.StatusNotFound) {
		return
	}
	s.showError(c, http.StatusNotFound, "Page not found",
		"There is no page at this address.",
		"Check the link you followed. If it came in an email, copy the whole link into the address bar.")
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	if s.apiUnmatched(c, http.StatusMethodNotAllowed) {
		return
	}
	s.showError(c, http.StatusMethodNotAllowed, "Page not found",
		"This page cannot be used that way.",
		"Go back and use the buttons on the page.")
}

func (s *Server) tooManyRequests(c *gin.Context, retryAfterSeconds int) {
	c.Header("Retry-After", itoa(retryAfterSeconds))
	s.showError(c, http.StatusTooManyRequests, "Too many tries",
		"There have been too many tries from your network in a short time.",
		"Wait a minute, then try again.")
}
