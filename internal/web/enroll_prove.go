package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/verify"
	"enrollportal/internal/web/render"
)

var viewEnrollProve = render.Declare("enroll_prove")

// proofKey names the session value that says until when this browser has
// proved a factor of the user (the new-factor rule; enroll.ProofTTL).
func proofKey(userID int64) string { return "proof:" + strconv.FormatInt(userID, 10) }

// hasProof reports whether this browser proved a factor of userID lately.
func (s *Server) hasProof(c *gin.Context, userID int64) bool {
	return userID != 0 && s.hasGrant(c, proofKey(userID))
}

// rememberProof notes that this browser has just proved a factor of userID.
func (s *Server) rememberProof(c *gin.Context, userID int64) {
	session(c).Values[proofKey(userID)] = s.clock.Now().Add(enroll.ProofTTL).Unix()
}

// proveFirst sends the steps of an enrollment link of a user who already
// has a factor to the proof step until this browser proves one (and the
// proof step back to the start once it has). It reports whether the
// request may go on.
func (s *Server) proveFirst(c *gin.Context, e *enrollment) bool {
	onProve := strings.HasPrefix(c.FullPath(), "/enroll/:token/prove")
	switch {
	case e.NeedsProof && !onProve:
		if c.Request.Method == http.MethodGet {
			s.redirect(c, e.stepPath("prove"))
		} else {
			s.showEnrollmentProblem(c, enroll.ErrProofRequired)
		}
		return false
	case !e.NeedsProof && onProve:
		s.redirect(c, e.stepPath(""))
		return false
	}
	return true
}

type provePage struct {
	E      *enrollment
	Error  string
	Notice string
	Key    bool // the user has a security key to prove with
	// SMS is the masked number "Text me a code" texts (the global policy
	// accepts SMS and the user has a phone that takes texts), else "".
	SMS string
}

// SMSTo says where "Text me a code" texts (templates/_prove.html).
func (p provePage) SMSTo() string { return p.SMS }

// ProveBase is where the proof's code form posts and its security-key
// steps hang (templates/_prove.html).
func (p provePage) ProveBase() string { return p.E.Base + "/prove" }

// EnrollProveGET asks a user who already has a device for a code from it
// before an enrollment link lets them add another.
func (s *Server) EnrollProveGET(c *gin.Context) {
	s.renderProve(c, http.StatusOK, "")
}

func (s *Server) renderProve(c *gin.Context, status int, msg string) {
	s.renderProvePage(c, status, provePage{Error: msg})
}

func (s *Server) renderProvePage(c *gin.Context, status int, p provePage) {
	p.E = currentEnrollment(c)
	ctx := c.Request.Context()
	f, err := s.enroll.FactorsOf(ctx, p.E.Subject.User.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	phone, texts, err := s.factors.GlobalSMSPhone(ctx, p.E.Subject.User.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	p.Key = len(f.SecurityKeys) > 0
	if texts {
		p.SMS = maskedNumber(phone.Number)
	}
	s.render(c, status, viewEnrollProve, Page{Title: "Confirm it's you", Help: helpEnroll, Data: p})
}

// EnrollProveSMSPOST texts a passcode to the user's phone for the proof,
// as the device page does (the same send limit, outbox and audit record),
// and shows the proof step again, saying where it went. The link names
// the user, so the page may say what happened.
func (s *Server) EnrollProveSMSPOST(c *gin.Context) {
	e := currentEnrollment(c)
	sent, err := s.factors.SendSMSPasscodeGlobal(c.Request.Context(), e.Subject.User, e.Subject.Who)
	var limit *factors.SMSLimitError
	switch {
	case err == nil:
		s.renderProvePage(c, http.StatusOK, provePage{Notice: fmt.Sprintf(
			"We texted a 7-digit code to %s. It works once, for %d minutes: enter it above.",
			maskedNumber(sent.Phone.Number), int(verify.SMSPasscodeTTL/time.Minute))})
	case errors.As(err, &limit):
		s.renderProve(c, http.StatusTooManyRequests, smsLimitMessage(limit))
	case errors.Is(err, factors.ErrSMSNotAccepted), errors.Is(err, factors.ErrNoSMSPhone):
		s.renderProve(c, http.StatusUnprocessableEntity,
			"No phone on your account can be texted a code here. Enter the 6-digit code your authenticator app shows, or a 9-digit bypass code from your help desk.")
	case errors.Is(err, factors.ErrSMSUserBlocked):
		// Disabled or locked out since the page was shown: the step
		// itself says so.
		s.redirect(c, e.stepPath("prove"))
	default:
		s.serverError(c, err)
	}
}

// proveKeySession names the session value holding the sealed WebAuthn
// session of a security-key proof in progress.
const proveKeySession = "prove:key"

// proveBinding ties a security-key proof to the link it was started on.
func proveBinding(e *enrollment) string { return "prove:" + e.Base }

// EnrollProveKeyOptionsPOST starts a security-key proof: the options for
// navigator.credentials.get (prompt.js runs the ceremony).
func (s *Server) EnrollProveKeyOptionsPOST(c *gin.Context) {
	e := currentEnrollment(c)
	options, sealed, err := s.enroll.BeginKeyLogin(c.Request.Context(), e.Subject.User, proveBinding(e))
	if errors.Is(err, enroll.ErrKeyNotAccepted) {
		c.JSON(http.StatusConflict, gin.H{"error": "Your account has no security key. Enter a code instead."})
		return
	}
	s.answerKeyProofOptions(c, options, sealed, err)
}

// answerKeyProofOptions answers a started security-key proof: the options
// for navigator.credentials.get, with the sealed challenge kept in the
// session for the verify step.
func (s *Server) answerKeyProofOptions(c *gin.Context, options, sealed []byte, err error) {
	if err != nil {
		s.log.Error("begin key proof", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "Something went wrong on our side. Try again in a minute."})
		return
	}
	session(c).Values[proveKeySession] = sealed
	if err := s.saveSession(c); err != nil {
		s.log.Error("save session", "err", err)
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", options)
}

// EnrollProveKeyVerifyPOST checks the key's answer; a key of the user is
// the proof the new-factor rule asks for.
func (s *Server) EnrollProveKeyVerifyPOST(c *gin.Context) {
	e := currentEnrollment(c)
	sealed, ok := s.takeKeyProof(c)
	if !ok {
		return
	}
	err := s.enroll.ProveKey(c.Request.Context(), e.Subject.User, sealed, proveBinding(e), c.Request.Body, e.Subject.Who)
	if s.keyProofFailed(c, err) {
		return
	}
	s.rememberProof(c, e.Subject.User.ID)
	s.keyProofDone(c, e.stepPath(""))
}

// takeKeyProof takes the sealed challenge of the security-key proof in
// progress out of the session, so that it serves one answer only; without
// one it answers that the check expired.
func (s *Server) takeKeyProof(c *gin.Context) ([]byte, bool) {
	sealed, _ := session(c).Values[proveKeySession].([]byte)
	delete(session(c).Values, proveKeySession)
	if sealed == nil {
		answerKeyExpired(c)
		return nil, false
	}
	return sealed, true
}

// answerKeyExpired answers a security key's answer that no check in
// progress waits for.
func answerKeyExpired(c *gin.Context) {
	c.JSON(http.StatusConflict, gin.H{"error": "The security key check expired. Try again."})
}

// keyProofFailed answers the verify step of a security-key check that
// failed: a key that is not one of the user's, or a failure on our side.
// It reports false, answering nothing, when err is nil.
func (s *Server) keyProofFailed(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, enroll.ErrKeyNotAccepted):
		c.JSON(http.StatusUnprocessableEntity, gin.H{"error": "That security key was not accepted. Use a key you set up for this account, and try again."})
	default:
		s.log.Error("finish key check", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "Something went wrong on our side. Try again in a minute."})
	}
	return true
}

// keyProofDone ends a passed security-key check: the session, which now
// holds what the check proved, is saved, and prompt.js goes on to next.
func (s *Server) keyProofDone(c *gin.Context, next string) {
	if err := s.saveSession(c); err != nil {
		s.log.Error("save session", "err", err)
	}
	c.JSON(http.StatusOK, gin.H{"next": next})
}

// EnrollProvePOST checks the code. Wrong codes count towards the lockout,
// as at sign-in.
func (s *Server) EnrollProvePOST(c *gin.Context) {
	e := currentEnrollment(c)
	code := verify.NormalizeCode(c.PostForm("code"))
	if !verify.ValidPasscodeShape(code) {
		s.renderProve(c, http.StatusUnprocessableEntity, "Enter the 6-digit code your authenticator app shows now, a 7-digit code we texted you, or a 9-digit bypass code.")
		return
	}
	_, err := s.enroll.ProvePasscode(c.Request.Context(), e.Subject.User, code, e.Subject.Who)
	var wrong *verify.WrongCodeError
	switch {
	case err == nil:
		s.rememberProof(c, e.Subject.User.ID)
		s.redirect(c, e.stepPath(""))
	case errors.As(err, &wrong):
		s.renderProve(c, http.StatusUnprocessableEntity, "That code did not work. "+triesLeft(wrong.Remaining))
	case errors.Is(err, verify.ErrNoPasscodeDevice):
		s.renderProve(c, http.StatusUnprocessableEntity,
			"Your account has no device that shows codes. Ask your help desk for a bypass code or a reset.")
	default:
		s.showEnrollmentProblem(c, err)
	}
}
