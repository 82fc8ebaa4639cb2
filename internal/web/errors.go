package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// errorPage is what the error template shows: what happened, and what to do.
type errorPage struct {
	Heading string
	Message string
	Next    string
	// Link and LinkText, when set, are the way on as a button.
	Link, LinkText string
}

// showError renders the one error page. Never pass err.Error() as message:
// causes go to the log, sentences to the user.
func (s *Server) showError(c *gin.Context, status int, heading, message, next string) {
	s.render(c, status, viewError, Page{Title: heading, Data: errorPage{Heading: heading, Message: message, Next: next}})
	c.Abort()
}

// showErrorLink is showError with the way on as a button, for when the next
// step is a page of the portal: an address written out in a sentence cannot
// be clicked and does not wrap on a phone.
func (s *Server) showErrorLink(c *gin.Context, status int, heading, message, next, link, linkText string) {
	s.render(c, status, viewError, Page{Title: heading, Data: errorPage{Heading: heading, Message: message, Next: next, Link: link, LinkText: linkText}})
	c.Abort()
}

// serverError logs cause and shows the generic failure page.
func (s *Server) serverError(c *gin.Context, cause error) {
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
