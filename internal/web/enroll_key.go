package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/verify"
	"enrollportal/internal/web/render"
)

var viewEnrollKey = render.Declare("enroll_key")

type keyPage struct {
	E           *enrollment
	DefaultName string
}

// EnrollKeyGET asks for the key's name; the ceremony runs in assets/webauthn.js.
func (s *Server) EnrollKeyGET(c *gin.Context) {
	e := currentEnrollment(c)
	if !e.Methods.SecurityKey {
		s.redirect(c, e.stepPath("choose"))
		return
	}
	s.render(c, http.StatusOK, viewEnrollKey, Page{Title: "Set up a security key", Help: helpEnroll,
		Data: keyPage{E: e, DefaultName: enroll.DefaultKeyName}})
}

// keyError is the JSON the ceremony script shows in its status area; Field
// names the input to mark invalid, when there is one.
type keyError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// EnrollKeyOptionsPOST starts a registration and answers the options for
// navigator.credentials.create.
func (s *Server) EnrollKeyOptionsPOST(c *gin.Context) {
	e := currentEnrollment(c)
	if !e.Methods.SecurityKey {
		c.JSON(http.StatusForbidden, keyError{Error: "Your organisation does not allow security keys here."})
		return
	}
	options, key, err := s.enroll.BeginSecurityKey(c.Request.Context(), e.Subject, c.PostForm("name"))
	if errors.Is(err, enroll.ErrInvalidKeyName) {
		c.JSON(http.StatusBadRequest, keyError{Field: "name",
			Error: "Give the key a name of up to 60 letters, digits or spaces, for example \"Blue key\"."})
		return
	}
	if err != nil {
		s.log.Error("begin security key", "err", err)
		c.JSON(http.StatusInternalServerError, keyError{Error: "Something went wrong on our side. Please try again in a minute."})
		return
	}
	s.metrics.enrollmentStarted.WithLabelValues("security_key").Inc()
	session(c).Values[e.stateKey("key_challenge")] = key
	if err := s.saveSession(c); err != nil {
		s.serverError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", options)
}

// EnrollKeyPOST checks the new credential and stores the key.
func (s *Server) EnrollKeyPOST(c *gin.Context) {
	e := currentEnrollment(c)
	key := sessionString(c, e.stateKey("key_challenge"))
	if key == "" {
		c.JSON(http.StatusConflict, keyError{Error: "This set-up has expired. Press the button to try again."})
		return
	}
	_, err := s.enroll.FinishSecurityKey(c.Request.Context(), e.Subject, key, c.Request.Body)
	switch {
	case err == nil:
	case errors.Is(err, enroll.ErrKeyRejected):
		c.JSON(http.StatusBadRequest, keyError{Error: "That security key could not be registered. It may already be registered, or the request was interrupted. Try again, or use another key."})
		return
	case errors.Is(err, enroll.ErrChallengeExpired):
		c.JSON(http.StatusConflict, keyError{Error: "This set-up has expired. Press the button to try again."})
		return
	case errors.Is(err, enroll.ErrUserDisabled), errors.Is(err, verify.ErrLockedOut), errors.Is(err, enroll.ErrAlreadyEnrolled):
		c.JSON(http.StatusForbidden, keyError{Error: "Your account cannot add devices right now. Contact your help desk."})
		return
	default:
		s.log.Error("finish security key", "err", err)
		c.JSON(http.StatusInternalServerError, keyError{Error: "Something went wrong on our side. Please try again in a minute."})
		return
	}
	s.metrics.enrollmentCompleted.WithLabelValues("security_key").Inc()
	delete(session(c).Values, e.stateKey("key_challenge"))
	s.grant(c, e)
	if err := s.saveSession(c); err != nil {
		s.serverError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"next": e.stepPath("done")})
}
