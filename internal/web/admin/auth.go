package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"enrollportal/internal/admin"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
	"enrollportal/internal/web/render"
)

var (
	viewAdminSignIn    = render.Declare("admin_signin")
	viewAdminCode      = render.Declare("admin_code")
	viewAdminSetupCode = render.Declare("admin_setup_code")
	viewAdminSetup     = render.Declare("admin_setup")
)

// adminSignInForm is the email and password form.
type adminSignInForm struct {
	Email  string
	Notice string
	Error  string
}

// AdminSignInGET shows the sign-in form, or the dashboard to a signed-in admin.
func (s *Section) AdminSignInGET(c *gin.Context) {
	if _, ok := s.signedInAdmin(c); ok {
		s.Redirect(c, "/admin")
		return
	}
	f := adminSignInForm{Notice: adminSessionString(c, adminValNotice)}
	delete(adminSession(c).Values, adminValNotice)
	s.Render(c, http.StatusOK, viewAdminSignIn, render.Page{Title: "Admin sign-in", Data: f})
}

// adminThrottled spends one try of the client's address and answers 429 when
// it has none left. There is no limit per account: one would let anybody
// keep an owner out; the account slows down the addresses that fail instead
// (admin.Service.SignIn).
func (s *Section) adminThrottled(c *gin.Context) bool {
	if s.adminIPTries.Allow(c.ClientIP()) {
		return false
	}
	s.log.Info("admin sign-in throttled", "ip", c.ClientIP())
	s.TooManyRequests(c, int(s.adminIPTries.RetryAfter()/time.Second))
	return true
}

// hashBusy answers 429 when every password hashing slot stayed taken.
func (s *Section) hashBusy(c *gin.Context, err error) bool {
	if !errors.Is(err, admin.ErrBusy) {
		return false
	}
	s.log.Info("admin sign-in refused: password hashing busy", "ip", c.ClientIP())
	s.TooManyRequests(c, int(admin.HashWait/time.Second)+1)
	return true
}

// AdminSignInPOST checks the email and password, then sends the admin on to
// the second factor (or to set one up).
func (s *Section) AdminSignInPOST(c *gin.Context) {
	f := adminSignInForm{Email: strings.TrimSpace(c.PostForm("email"))}
	email := admin.NormalizeEmail(f.Email)
	if s.adminThrottled(c) {
		return
	}
	a, err := s.admins.SignIn(c.Request.Context(), email, c.PostForm("password"), c.ClientIP())
	if s.hashBusy(c, err) {
		return
	}
	if errors.Is(err, admin.ErrBadCredentials) {
		f.Error = "The email or password is not right, or there were too many wrong tries from here lately. Check both and try again in a minute."
		s.Render(c, http.StatusUnauthorized, viewAdminSignIn, render.Page{Title: "Admin sign-in", Data: f})
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.startSecondStep(c, a)
}

// startSecondStep remembers that a's password was right and sends them to
// the code step. The CSRF token is replaced at every change of privilege.
func (s *Section) startSecondStep(c *gin.Context, a store.Admin) {
	clearAdminSession(c)
	sess := adminSession(c)
	sess.Values[adminValID] = a.ID
	sess.Values[adminValSince] = s.clock.Now().Unix()
	if a.TOTPSecret == nil {
		sess.Values[adminValStage] = stageSetupCode
		s.Redirect(c, "/admin/signin/setup-code")
		return
	}
	sess.Values[adminValStage] = stageCode
	s.Redirect(c, "/admin/signin/code")
}

// pendingAdmin returns the admin half-way through signing in at stage, or
// sends the browser back to the start.
func (s *Section) pendingAdmin(c *gin.Context, stage string) (store.Admin, bool) {
	since := adminSessionInt(c, adminValSince)
	if adminSessionString(c, adminValStage) != stage || s.clock.Now().Unix()-since >= int64(secondStepTTL/time.Second) {
		if adminSessionString(c, adminValStage) != "" {
			clearAdminSession(c)
			adminSession(c).Values[adminValNotice] = "That took too long. Please sign in again."
		}
		s.Redirect(c, "/admin/signin")
		return store.Admin{}, false
	}
	a, err := s.store.AdminByID(c.Request.Context(), adminSessionInt(c, adminValID))
	if err != nil {
		clearAdminSession(c)
		s.Redirect(c, "/admin/signin")
		return store.Admin{}, false
	}
	return a, true
}

// finishAdminSignIn makes the session a signed-in one.
func (s *Section) finishAdminSignIn(c *gin.Context, a store.Admin) {
	if err := s.admins.FinishSignIn(c.Request.Context(), a, c.ClientIP()); err != nil {
		s.ServerError(c, err)
		return
	}
	clearAdminSession(c)
	now := s.clock.Now().Unix()
	sess := adminSession(c)
	sess.Values[adminValID] = a.ID
	sess.Values[adminValStage] = stageIn
	sess.Values[adminValSince] = now
	sess.Values[adminValSeen] = now
	sess.Values[adminValGen] = a.SessionGen
	s.Redirect(c, "/admin")
}

// adminCodeForm is the one-time code form.
type adminCodeForm struct {
	Error string
}

// AdminSignInCodeGET asks for the code of the admin's authenticator app.
func (s *Section) AdminSignInCodeGET(c *gin.Context) {
	if _, ok := s.pendingAdmin(c, stageCode); !ok {
		return
	}
	s.Render(c, http.StatusOK, viewAdminCode, render.Page{Title: "Enter your code", Data: adminCodeForm{}})
}

// AdminSignInCodePOST checks the code and finishes signing in.
func (s *Section) AdminSignInCodePOST(c *gin.Context) {
	a, ok := s.pendingAdmin(c, stageCode)
	if !ok {
		return
	}
	if s.adminThrottled(c) {
		return
	}
	err := s.admins.VerifyTOTP(c.Request.Context(), a, c.PostForm("code"), c.ClientIP())
	switch {
	case errors.Is(err, admin.ErrBadCode):
		s.Render(c, http.StatusUnauthorized, viewAdminCode, render.Page{Title: "Enter your code", Data: adminCodeForm{
			Error: "That code is not right. Enter the newest code your app shows; each code works only once. If it keeps failing, check that your phone's clock is set automatically."}})
		return
	case errors.Is(err, admin.ErrBadCredentials):
		s.adminLockedOut(c)
		return
	case err != nil:
		s.ServerError(c, err)
		return
	}
	s.finishAdminSignIn(c, a)
}

// adminSetupCodePage shows the QR code and secret of a new authenticator.
type adminSetupCodePage struct {
	Secret string // grouped in fours
	Error  string
}

// pendingTOTPSecret returns the secret being set up, creating it on first use.
// It lives only in the (encrypted) session until a code proves it.
func pendingTOTPSecret(c *gin.Context) string {
	sec := adminSessionString(c, adminValTOTP)
	if sec == "" {
		sec = admin.NewTOTPSecret()
		adminSession(c).Values[adminValTOTP] = sec
	}
	return sec
}

func groupInFours(s string) string {
	return enroll.AuthenticatorSetup{Secret: s}.GroupedSecret()
}

// AdminSetupCodeGET shows how to add the admin account to an authenticator app.
func (s *Section) AdminSetupCodeGET(c *gin.Context) {
	if _, ok := s.pendingAdmin(c, stageSetupCode); !ok {
		return
	}
	sec := pendingTOTPSecret(c)
	s.Render(c, http.StatusOK, viewAdminSetupCode, render.Page{Title: "Set up your second factor", Data: adminSetupCodePage{Secret: groupInFours(sec)}})
}

// AdminSetupCodeQRGET is the QR code of the pending secret, as a PNG (the
// CSP allows images from the portal only, not data: URLs).
func (s *Section) AdminSetupCodeQRGET(c *gin.Context) {
	a, ok := s.pendingAdmin(c, stageSetupCode)
	if !ok {
		return
	}
	sec := adminSessionString(c, adminValTOTP)
	if sec == "" {
		s.NotFound(c)
		return
	}
	// Whole pixels per module (-6) keep the code sharp however dense it is.
	png, err := qrcode.Encode(enroll.OTPAuthURL(s.Org(c.Request.Context())+" admin", a.Email, sec), qrcode.Medium, -6)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", png)
}

// AdminSetupCodePOST stores the new authenticator once a code proves it and
// finishes signing in.
func (s *Section) AdminSetupCodePOST(c *gin.Context) {
	a, ok := s.pendingAdmin(c, stageSetupCode)
	if !ok {
		return
	}
	if s.adminThrottled(c) {
		return
	}
	sec := adminSessionString(c, adminValTOTP)
	if sec == "" {
		s.Redirect(c, "/admin/signin/setup-code")
		return
	}
	err := s.admins.ConfirmTOTP(c.Request.Context(), a, sec, c.PostForm("code"), c.ClientIP())
	switch {
	case errors.Is(err, admin.ErrBadCode):
		s.Render(c, http.StatusUnauthorized, viewAdminSetupCode, render.Page{Title: "Set up your second factor", Data: adminSetupCodePage{
			Secret: groupInFours(sec),
			Error:  "That code is not right. Enter the six digits your app shows now. If it keeps failing, check that your phone's clock is set automatically."}})
		return
	case errors.Is(err, admin.ErrBadCredentials):
		s.adminLockedOut(c)
		return
	case errors.Is(err, admin.ErrTOTPTaken):
		clearAdminSession(c)
		adminSession(c).Values[adminValNotice] = "A second factor was set up for this account meanwhile, in another window or by someone else. Sign in again and use it; if that was not you, tell an owner."
		s.Redirect(c, "/admin/signin")
		return
	case err != nil:
		s.ServerError(c, err)
		return
	}
	s.finishAdminSignIn(c, a)
}

// adminLockedOut ends a sign-in refused at the code step (too soon after
// wrong tries from this address, or the account is locked by an owner) and
// says so on the sign-in page.
func (s *Section) adminLockedOut(c *gin.Context) {
	clearAdminSession(c)
	adminSession(c).Values[adminValNotice] = "Too many wrong tries from here lately, or the account is locked. Wait a minute and sign in again."
	s.Redirect(c, "/admin/signin")
}

// AdminSignOutPOST ends every session of the admin, this one and any copy.
func (s *Section) AdminSignOutPOST(c *gin.Context) {
	if err := s.admins.SignOut(c.Request.Context(), *currentAdmin(c), c.ClientIP()); err != nil {
		s.ServerError(c, err)
		return
	}
	clearAdminSession(c)
	adminSession(c).Values[adminValNotice] = "You are signed out."
	s.Redirect(c, "/admin/signin")
}

// adminSetupForm creates the first owner from the setup link.
type adminSetupForm struct {
	Token  string
	Email  string
	Name   string
	Errors map[string]string
}

func (s *Section) setupLinkGone(c *gin.Context) {
	s.ShowError(c, http.StatusGone, "This setup link no longer works",
		"The link has been used already, a newer one was printed, an admin exists already, or it has expired (it works for 24 hours, once).",
		"Restart the portal to print a new one while no admin exists, or ask an owner to add you with portal admin add.")
}

// AdminSetupGET shows the form that creates an admin from a setup link.
func (s *Section) AdminSetupGET(c *gin.Context) {
	token := c.Param("token")
	if _, err := s.admins.OpenSetupLink(c.Request.Context(), token); err != nil {
		if errors.Is(err, admin.ErrSetupLinkGone) {
			s.setupLinkGone(c)
			return
		}
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminSetup, render.Page{Title: "Create the owner account", Data: adminSetupForm{Token: token}})
}

// AdminSetupPOST creates the admin and continues to setting up the second
// factor.
func (s *Section) AdminSetupPOST(c *gin.Context) {
	token := c.Param("token")
	if !s.adminIPTries.Allow(c.ClientIP()) {
		s.TooManyRequests(c, int(s.adminIPTries.RetryAfter()/time.Second))
		return
	}
	f := adminSetupForm{Token: token, Email: strings.TrimSpace(c.PostForm("email")), Name: strings.TrimSpace(c.PostForm("name")), Errors: map[string]string{}}
	pw := c.PostForm("password")
	if pw != c.PostForm("password_again") {
		f.Errors["password_again"] = "The two passwords are not the same. Type the same password twice."
	}
	if err := admin.ValidatePassword(pw); err != nil {
		f.Errors["password"] = "A password must be " + strconv.Itoa(admin.MinPasswordLength) + " to " + strconv.Itoa(admin.MaxPasswordLength) + " characters long."
	}
	if len(f.Errors) == 0 {
		a, err := s.admins.CompleteSetup(c.Request.Context(), token, admin.NewAdmin{Email: f.Email, Name: f.Name, Password: pw}, c.ClientIP())
		switch {
		case err == nil:
			s.startSecondStep(c, a)
			return
		case errors.Is(err, admin.ErrSetupLinkGone):
			s.setupLinkGone(c)
			return
		case s.hashBusy(c, err):
			return
		case errors.Is(err, admin.ErrInvalidEmail), errors.Is(err, admin.ErrEmailTaken):
			f.Errors["email"] = sentence(err)
		case errors.Is(err, admin.ErrNameTooLong), errors.Is(err, text.ErrInvalid):
			f.Errors["name"] = sentence(err)
		default:
			s.ServerError(c, err)
			return
		}
	}
	s.Render(c, http.StatusUnprocessableEntity, viewAdminSetup, render.Page{Title: "Create the owner account", Data: f})
}

// sentence turns one of the domain's human error messages into a sentence
// for a page: capital first letter, full stop.
func sentence(err error) string {
	m := err.Error()
	if m == "" {
		return m
	}
	return strings.ToUpper(m[:1]) + m[1:] + "."
}
