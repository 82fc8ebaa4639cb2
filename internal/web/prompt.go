package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/duo"
	"enrollportal/internal/policy"
	"enrollportal/internal/prompt"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

// The Universal Prompt pages: after the application's authorize request,
// policy decides; an enrolled user proves a factor, an unenrolled one enrolls
// inline, and the browser goes back to the application with a code.
var (
	viewPromptMethod   = render.Declare("prompt_method")
	viewPromptPasscode = render.Declare("prompt_passcode")
	viewPromptKey      = render.Declare("prompt_key")
	viewPromptDone     = render.Declare("prompt_done")
)

const (
	promptTxKey = "prompt_tx"
	// promptSessionPrefix + txid marks, in the browser session, the logins
	// this browser claimed.
	promptSessionPrefix = "prompt:"
)

func (s *Server) promptRoutes(pages *gin.RouterGroup) {
	g := pages.Group("/prompt/:tx", duo.WithLoginDeadline, s.promptTx)
	g.GET("", s.PromptGET)
	g.GET("/passcode", s.promptUser, s.PromptPasscodeGET)
	g.POST("/passcode", s.promptUser, s.PromptPasscodePOST)
	g.POST("/sms", s.promptUser, s.PromptSMSPOST)
	g.GET("/key", s.promptUser, s.PromptKeyGET)
	g.POST("/key/options", s.promptUser, s.PromptKeyOptionsPOST)
	g.POST("/key/verify", s.promptUser, s.PromptKeyVerifyPOST)
	g.GET("/done", s.PromptDoneGET)
	g.GET("/return", s.PromptReturnGET)
	s.promptEnrollRoutes(g)
}

// promptPath is the address of a prompt page; token is the transaction's.
func promptPath(c *gin.Context, page string) string {
	p := "/prompt/" + c.Param("tx")
	if page != "" {
		p += "/" + page
	}
	return p
}

func tx(c *gin.Context) *prompt.Transaction { return c.MustGet(promptTxKey).(*prompt.Transaction) }

// promptTx loads the login of the address and makes sure it belongs to this
// browser: the first browser to open it claims it, and any other gets a
// page saying so (the address alone is not enough to take over a login).
func (s *Server) promptTx(c *gin.Context) {
	t, err := s.prompt.Open(c.Request.Context(), c.Param("tx"))
	if errors.Is(err, prompt.ErrTransactionNotFound) {
		s.showError(c, http.StatusNotFound, "This sign-in has ended",
			"This sign-in page has expired or was already used.",
			"Go back to the application and sign in again.")
		return
	}
	if err != nil {
		s.serverError(c, err)
		return
	}
	key := promptSessionPrefix + t.TxID
	if session(c).Values[key] == nil {
		claimed, err := s.prompt.Claim(c.Request.Context(), t)
		if err != nil {
			s.serverError(c, err)
			return
		}
		if !claimed {
			s.showError(c, http.StatusForbidden, "This sign-in was opened elsewhere",
				"This sign-in page is already open in another browser or window, so it cannot be used here.",
				"Go back to the application and sign in again from this browser.")
			return
		}
		prunePromptSession(c, s.clock.Now())
		session(c).Values[key] = s.clock.Now().Unix()
	}
	c.Set(promptTxKey, &t)
	c.Next()
}

// promptUser makes sure the login is at a step where an existing user
// proves a factor; otherwise it sends the browser where the login stands.
func (s *Server) promptUser(c *gin.Context) {
	t := tx(c)
	switch {
	case t.Finished():
		s.redirect(c, promptPath(c, "done"))
		return
	case t.Decision != prompt.DecisionAuth || t.UserID == nil:
		s.redirect(c, promptPath(c, ""))
		return
	}
	u, err := s.store.UserByID(c.Request.Context(), *t.UserID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	// A user disabled or locked out since the login began is stopped here,
	// whatever method they were about to use.
	if d, denied := policy.StatusDenial(u.Status); denied {
		s.promptDeny(c, t, &u, d.Reason, d.Message)
		return
	}
	c.Set("prompt_user", u)
	c.Next()
}

// prunePromptSession forgets, in the session cookie, the logins this browser
// claimed that have expired by now (and the enrollment grants they
// started), so that abandoned logins do not grow the cookie.
func prunePromptSession(c *gin.Context, now time.Time) {
	values := session(c).Values
	for k, v := range values {
		name, _ := k.(string)
		at, _ := v.(int64)
		switch {
		case strings.HasPrefix(name, promptSessionPrefix) && now.Unix()-at > int64(prompt.TransactionTTL/time.Second):
			delete(values, k)
		case strings.HasPrefix(name, "grant:prompt:") && now.Unix() > at:
			delete(values, k)
		}
	}
}

func promptUserOf(c *gin.Context) store.User { return c.MustGet("prompt_user").(store.User) }

// promptOffer is what a user can prove themselves with on this login: what
// they have enrolled, narrowed to what the policy accepts. The passcode page
// names the sources of a code the user actually has, so that someone whose
// only device is a hardware token is not told to open an app.
type promptOffer struct {
	// App and Token: an authenticator app's or a hardware token's code is
	// accepted and the user has one.
	App, Token bool
	// SMS is the masked number a passcode can be texted to; "" for none.
	SMS string
	// Bypass: the user has only bypass codes from an admin to type.
	Bypass bool
	// Key: a security key is accepted and the user has one.
	Key bool
}

// Passcode reports whether the passcode page has something for the user to
// type: a code from an app, a token, a text or a bypass code.
func (o promptOffer) Passcode() bool { return o.App || o.Token || o.SMS != "" || o.Bypass }

// promptMethods are the ways the user can prove themselves here (see
// promptOffer).
func (s *Server) promptMethods(c *gin.Context, t *prompt.Transaction, userID int64) (promptOffer, error) {
	var o promptOffer
	f, err := s.enroll.FactorsOf(c.Request.Context(), userID)
	if err != nil {
		return o, err
	}
	// Each method is offered when the user is enrolled under it alone and
	// the login accepts it.
	offers := func(m string) bool { return policy.Counts(t.AuthMethods, m) && f.EnrolledUnder([]string{m}) }
	o.App, o.Token, o.Key = offers(store.MethodAuthenticatorApp), offers(store.MethodHardwareToken), offers(store.MethodSecurityKey)
	if offers(store.MethodSMS) {
		for _, ph := range f.Phones {
			if ph.TakesSMS() {
				o.SMS = maskedNumber(ph.Number)
				break
			}
		}
	}
	if !o.Passcode() {
		// Bypass codes are typed where passcodes are, and an admin issued
		// them for this user: one whose only device is a lost security key
		// can still sign in with one.
		if o.Bypass, err = s.factors.HasLiveBypassCodes(c.Request.Context(), userID); err != nil {
			return o, err
		}
	}
	return o, nil
}

// maskedNumber shows a phone number by its last four digits only.
func maskedNumber(number string) string {
	if n := len(number); n >= 4 {
		return "XXX-XXX-" + number[n-4:]
	}
	return "your phone"
}

type promptPage struct {
	App      string
	Username string
	Base     string // /prompt/{token}
	// Offer is what the user can sign in with here.
	Offer promptOffer
	// Texted: a passcode was just texted to SMS.
	Texted bool
	Error  string
	// JustEnrolled: the user set up their first device a moment ago.
	JustEnrolled bool
	// Denied: the login ended in a denial; Message says why.
	Denied  bool
	Message string
}

func (s *Server) promptPage(c *gin.Context) promptPage {
	t := tx(c)
	return promptPage{App: t.App.Name, Username: t.Username, Base: promptPath(c, "")}
}

// PromptGET evaluates policy once for the login and sends the browser to
// the step it calls for: the method picker, inline enrollment, or (allow
// and deny) straight to the end.
func (s *Server) PromptGET(c *gin.Context) {
	t := tx(c)
	ctx := c.Request.Context()
	if t.Finished() {
		s.redirect(c, promptPath(c, "done"))
		return
	}
	if !t.Decided() {
		d, u, err := s.policy.Decide(ctx, t.App, t.Username, net.ParseIP(t.ClientIP))
		if err != nil {
			s.serverError(c, err)
			return
		}
		pd := prompt.Decision{
			Result: d.Result, Reason: d.Reason, Message: d.Message, User: u,
			EnrollMethods: d.Effective.EnrollMethods, AuthMethods: d.Effective.AuthMethods,
		}
		if err := s.prompt.Decide(ctx, t, pd); err != nil {
			s.serverError(c, err)
			return
		}
	}
	switch t.Decision {
	case prompt.DecisionAllow:
		// Nothing to show: straight back to the application.
		s.redirect(c, promptPath(c, "return"))
	case prompt.DecisionDeny:
		s.redirect(c, promptPath(c, "done"))
	case prompt.DecisionEnroll:
		s.redirect(c, promptPath(c, "enroll"))
	default:
		s.promptChooseMethod(c)
	}
}

// promptChooseMethod shows the methods an enrolled user can use, or goes
// straight to the only one.
func (s *Server) promptChooseMethod(c *gin.Context) {
	t := tx(c)
	if t.UserID == nil {
		s.serverError(c, errors.New("prompt: auth decision without a user"))
		return
	}
	offer, err := s.promptMethods(c, t, *t.UserID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	switch {
	case offer.Passcode() && offer.Key:
		p := s.promptPage(c)
		p.Offer = offer
		s.render(c, http.StatusOK, viewPromptMethod, Page{Title: "Verify it's you", Data: p})
	case offer.Passcode():
		s.redirect(c, promptPath(c, "passcode"))
	case offer.Key:
		s.redirect(c, promptPath(c, "key"))
	default:
		// Enrolled only with methods this application does not accept.
		var u *store.User
		if found, err := s.store.UserByID(c.Request.Context(), *t.UserID); err == nil {
			u = &found
		}
		if err := s.prompt.Fail(c.Request.Context(), t, u, prompt.FactorNotAvailable, "no_allowed_method",
			"None of your two-factor methods is allowed for this application."); err != nil {
			s.serverError(c, err)
			return
		}
		s.redirect(c, promptPath(c, "done"))
	}
}

// PromptDoneGET shows how a login ended: a denial says why and offers the
// way back to the application (with the deny result). A successful login
// goes back by itself and lands here only when the page is reloaded.
func (s *Server) PromptDoneGET(c *gin.Context) {
	t := tx(c)
	if !t.Finished() {
		s.redirect(c, promptPath(c, ""))
		return
	}
	p := s.promptPage(c)
	if t.Decision == prompt.DecisionDeny || !s.promptAllowed(t) {
		p.Denied = true
		p.Message = t.Message
		if p.Message == "" {
			p.Message = "Your organisation's policy does not allow you to sign in to this application."
		}
		s.render(c, http.StatusForbidden, viewPromptDone, Page{Title: "Access denied", Data: p})
		return
	}
	s.render(c, http.StatusOK, viewPromptDone, Page{Title: "You're verified", Data: p})
}

func (s *Server) promptAllowed(t *prompt.Transaction) bool {
	o, err := prompt.OutcomeOf(t.PromptTransaction)
	return err == nil && o.Result == prompt.ResultAllow
}

// PromptReturnGET issues the code and sends the browser to the
// application's registered redirect URI. It is reached by a link, a
// script, or the redirect after the passcode form: browsers check a form's
// form-action against every redirect that follows its post, so the
// passcode page allows the redirect URI's origin (allowFormRedirect).
func (s *Server) PromptReturnGET(c *gin.Context) {
	t := tx(c)
	if !t.Finished() {
		s.redirect(c, promptPath(c, ""))
		return
	}
	target, err := s.prompt.Return(c.Request.Context(), *t)
	if errors.Is(err, prompt.ErrTransactionNotFound) {
		s.showError(c, http.StatusNotFound, "This sign-in has ended",
			"You were already sent back to the application.",
			"Go back to the application. If it did not sign you in, sign in again.")
		return
	}
	if err != nil {
		s.serverError(c, err)
		return
	}
	delete(session(c).Values, promptSessionPrefix+t.TxID)
	delete(session(c).Values, justEnrolledKey(t))
	if err := s.saveSession(c); err != nil {
		s.log.Error("save session", "err", err)
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// allowFormRedirect widens this response's form-action to the origin of
// the login's registered redirect URI, for a page whose form, once
// verified, redirects back to the application. Only registered URIs ever
// get here.
func allowFormRedirect(c *gin.Context, redirectURI string) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return
	}
	origin := u.Scheme + "://" + u.Host
	c.Header("Content-Security-Policy", strings.Replace(contentSecurityPolicy,
		"form-action 'self'", "form-action 'self' "+origin, 1))
}
