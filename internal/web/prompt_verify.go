package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/factors"
	"enrollportal/internal/prompt"
	"enrollportal/internal/verify"
)

// PromptPasscodeGET asks for a passcode: from an authenticator app, a
// hardware token, a text or an admin's bypass codes.
func (s *Server) PromptPasscodeGET(c *gin.Context) {
	s.renderPasscode(c, http.StatusOK, "")
}

func (s *Server) renderPasscode(c *gin.Context, status int, message string) {
	s.renderPasscodePage(c, status, message, false)
}

func (s *Server) renderPasscodePage(c *gin.Context, status int, message string, texted bool) {
	t := tx(c)
	p := s.promptPage(c)
	p.Texted = texted
	var err error
	if p.Offer, err = s.promptMethods(c, t, promptUserOf(c).ID); err != nil {
		s.serverError(c, err)
		return
	}
	if !p.Offer.Passcode() {
		s.redirect(c, promptPath(c, ""))
		return
	}
	p.Error = message
	allowFormRedirect(c, t.RedirectURI)
	p.JustEnrolled = session(c).Values[justEnrolledKey(t)] != nil
	s.render(c, status, viewPromptPasscode, Page{Title: "Enter your passcode", Data: p})
}

// PromptPasscodePOST checks the passcode. Wrong codes count towards lockout
// and the page says how many tries are left.
func (s *Server) PromptPasscodePOST(c *gin.Context) {
	t := tx(c)
	u := promptUserOf(c)
	code := verify.NormalizeCode(c.PostForm("code"))
	if !verify.ValidPasscodeShape(code) {
		s.renderPasscode(c, http.StatusUnprocessableEntity, "Enter the 6-digit code your authenticator app shows now, a 7-digit code we texted you, or a 9-digit bypass code from your help desk.")
		return
	}
	err := s.prompt.CheckPasscode(c.Request.Context(), t, u, s.enroll, code, s.who(c, u.Username))
	var wrong *verify.WrongCodeError
	switch {
	case err == nil:
		s.redirect(c, promptPath(c, "return"))
	case errors.Is(err, verify.ErrLockedOut):
		s.redirect(c, promptPath(c, "done"))
	case errors.As(err, &wrong):
		s.renderPasscode(c, http.StatusUnprocessableEntity, fmt.Sprintf(
			"That code did not work. Check that you typed the newest code from the app. %s If it keeps failing, your phone's clock may be off.",
			triesLeft(wrong.Remaining)))
	case errors.Is(err, verify.ErrNoPasscodeDevice):
		s.redirect(c, promptPath(c, ""))
	case errors.Is(err, prompt.ErrTransactionNotFound):
		s.showError(c, http.StatusNotFound, "This sign-in has ended",
			"This sign-in page has expired.", "Go back to the application and sign in again.")
	default:
		s.serverError(c, err)
	}
}

// PromptSMSPOST texts a passcode to the user's phone and shows the
// passcode page again, saying where it went; the send limit is said there
// too, as an error that sends nothing.
func (s *Server) PromptSMSPOST(c *gin.Context) {
	t := tx(c)
	u := promptUserOf(c)
	_, err := s.factors.SendSMSPasscode(c.Request.Context(), u, t.AuthMethods, "", s.who(c, u.Username))
	var limit *factors.SMSLimitError
	switch {
	case err == nil:
		s.renderPasscodePage(c, http.StatusOK, "", true)
	case errors.As(err, &limit):
		s.renderPasscode(c, http.StatusTooManyRequests, smsLimitMessage(limit))
	case errors.Is(err, factors.ErrSMSNotAccepted), errors.Is(err, factors.ErrNoSMSPhone), errors.Is(err, factors.ErrSMSUserBlocked):
		s.redirect(c, promptPath(c, ""))
	default:
		s.serverError(c, err)
	}
}

// smsLimitMessage says that the send limit of texts is reached, and how
// long until the next may be asked for; nothing was sent.
func smsLimitMessage(limit *factors.SMSLimitError) string {
	return fmt.Sprintf(
		"We already texted you %d codes in the last %d minutes, the most we send. Use one of them, or wait %s and ask again.",
		factors.SMSSendLimit, int(factors.SMSSendWindow/time.Minute), waitMinutes(limit.RetryAfter))
}

// waitMinutes says a wait in whole minutes, rounded up.
func waitMinutes(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// triesLeft says how many wrong codes are left before the lockout, in
// words that agree with the number.
func triesLeft(n int) string {
	if n == 1 {
		return "You have 1 try left before your account is locked."
	}
	return fmt.Sprintf("You have %d tries left before your account is locked.", n)
}

// PromptKeyGET shows the security-key step; the page's script runs the
// WebAuthn ceremony against the two JSON endpoints below.
func (s *Server) PromptKeyGET(c *gin.Context) {
	t := tx(c)
	p := s.promptPage(c)
	var err error
	if p.Offer, err = s.promptMethods(c, t, promptUserOf(c).ID); err != nil {
		s.serverError(c, err)
		return
	}
	if !p.Offer.Key {
		s.redirect(c, promptPath(c, ""))
		return
	}
	s.render(c, http.StatusOK, viewPromptKey, Page{Title: "Use your security key", Data: p})
}

// PromptKeyOptionsPOST starts the security-key check and answers the options
// for navigator.credentials.get.
func (s *Server) PromptKeyOptionsPOST(c *gin.Context) {
	t := tx(c)
	u := promptUserOf(c)
	if offer, err := s.promptMethods(c, t, u.ID); err != nil || !offer.Key {
		c.JSON(http.StatusConflict, gin.H{"error": "Security keys cannot be used to sign in to this application."})
		return
	}
	options, sealed, err := s.enroll.BeginKeyLogin(c.Request.Context(), u, t.TxID)
	if err != nil {
		s.log.Error("begin key login", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "Something went wrong on our side. Try again in a minute."})
		return
	}
	if err := s.prompt.SetKeySession(c.Request.Context(), t, sealed); err != nil {
		s.log.Error("begin key login", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "Something went wrong on our side. Try again in a minute."})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", options)
}

// PromptKeyVerifyPOST checks the key's answer and, when it proves one of the
// user's keys, finishes the login.
func (s *Server) PromptKeyVerifyPOST(c *gin.Context) {
	t := tx(c)
	u := promptUserOf(c)
	ctx := c.Request.Context()
	if t.KeySession == nil {
		answerKeyExpired(c)
		return
	}
	_, err := s.enroll.FinishKeyLogin(ctx, u, t.KeySession, t.TxID, c.Request.Body, s.who(c, u.Username))
	if err == nil {
		err = s.prompt.Succeed(ctx, t, u, prompt.FactorSecurityKey, "user_approved")
	}
	if s.keyProofFailed(c, err) {
		return
	}
	s.keyProofDone(c, promptPath(c, "return"))
}
