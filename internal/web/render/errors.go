package render

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
	"enrollportal/internal/text"
)

// errorPage is what the error template shows: what happened, and what to do.
type errorPage struct {
	Heading string
	Message string
	Next    string
	// Link and LinkText, when set, are the way on as a button.
	Link, LinkText string
}

// ShowError renders the one error page. Never pass err.Error() as message:
// causes go to the log, sentences to the user.
func (r *Renderer) ShowError(c *gin.Context, status int, heading, message, next string) {
	r.Render(c, status, viewError, Page{Title: heading, Data: errorPage{Heading: heading, Message: message, Next: next}})
	c.Abort()
}

// ShowErrorLink is ShowError with the way on as a button, for when the next
// step is a page of the portal: an address written out in a sentence cannot
// be clicked and does not wrap on a phone.
func (r *Renderer) ShowErrorLink(c *gin.Context, status int, heading, message, next, link, linkText string) {
	r.Render(c, status, viewError, Page{Title: heading, Data: errorPage{Heading: heading, Message: message, Next: next, Link: link, LinkText: linkText}})
	c.Abort()
}

// ServerError logs cause and shows the generic failure page, or, when the
// database did not answer before the request's deadline (a login page
// under a write-locked database), a 503 page that says to try again. Text that
// breaks the text rule (a NUL byte, bytes that are not UTF-8) is refused
// by the domain wherever a form sends it; that is the sender's mistake, not
// ours, so it gets its own page naming the field, and handlers need no case
// for it.
func (r *Renderer) ServerError(c *gin.Context, cause error) {
	var te *text.Error
	if errors.As(cause, &te) {
		r.ShowError(c, http.StatusUnprocessableEntity, "This text cannot be saved",
			te.Error()+". Nothing was changed.",
			"Go back, correct that field (retype it rather than paste it), and save again.")
		return
	}
	if store.Busy(cause) {
		r.log.Warn("request failed: database busy", "route", c.FullPath(), "err", cause)
		c.Header("Retry-After", "5")
		r.ShowError(c, http.StatusServiceUnavailable, "The portal is busy",
			"The service is busy right now, so this step could not be finished. Nothing was changed.",
			"Please try again in a minute.")
		return
	}
	if cause != nil {
		r.log.Error("request failed", "route", c.FullPath(), "err", cause)
	}
	r.ShowError(c, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side and nothing was changed.",
		"Please try again in a minute. If it keeps happening, contact your help desk.")
}

// Forbidden is the answer to a form without a valid CSRF token.
func (r *Renderer) Forbidden(c *gin.Context) {
	r.ShowError(c, http.StatusForbidden, "This form has expired",
		"For your safety, this page could not accept the form you sent.",
		"Go back, reload the page, and try again.")
}

// NotFound is the page for an address with nothing behind it.
func (r *Renderer) NotFound(c *gin.Context) {
	r.ShowError(c, http.StatusNotFound, "Page not found",
		"There is no page at this address.",
		"Check the link you followed. If it came in an email, copy the whole link into the address bar.")
}

// MethodNotAllowed is the page for a known address used with another method.
func (r *Renderer) MethodNotAllowed(c *gin.Context) {
	r.ShowError(c, http.StatusMethodNotAllowed, "Page not found",
		"This page cannot be used that way.",
		"Go back and use the buttons on the page.")
}

// TooManyRequests refuses a request over a rate limit.
func (r *Renderer) TooManyRequests(c *gin.Context, retryAfterSeconds int) {
	c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	r.ShowError(c, http.StatusTooManyRequests, "Too many tries",
		"There have been too many tries from your network in a short time.",
		"Wait a minute, then try again.")
}
