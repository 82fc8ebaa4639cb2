package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
	"enrollportal/internal/web/render"
)

var (
	viewActivate     = render.Declare("activate")
	viewActivateDone = render.Declare("activate_done")
	viewInstall      = render.Declare("install")
)

// activationRoutes registers the activation link opened on the phone and
// the page on installing an authenticator app.
func (s *Server) activationRoutes(pages *gin.RouterGroup) {
	g := pages.Group("/activate/:code", s.loadActivation)
	g.GET("", s.ActivateGET)
	g.POST("", s.ActivatePOST)
	g.GET("/qr.png", s.ActivateQRGET)
	g.GET("/barcode.png", s.ActivateBarcodeGET)
	pages.GET("/activate/:code/done", s.ActivateDoneGET)
	pages.GET("/install", s.InstallGET)
}

const (
	activationKey     = "activation"
	sessActivationFor = "activation_challenge:" // + code id
	sessActivatedCode = "activation_done"
)

// loadActivation resolves /activate/:code. Unknown codes are throttled per
// client address like enrollment links.
func (s *Server) loadActivation(c *gin.Context) {
	ip := c.ClientIP()
	if s.linkTries.Exhausted(ip) {
		s.tooManyRequests(c, int(s.linkTries.RetryAfter().Seconds()))
		return
	}
	a, err := s.enroll.OpenActivation(c.Request.Context(), c.Param("code"))
	switch {
	case err == nil:
	case errors.Is(err, enroll.ErrActivationNotFound):
		s.linkTries.Allow(ip)
		s.showError(c, http.StatusNotFound, "This activation link does not work",
			"The link is incomplete or was replaced by a newer one.",
			"Copy the whole link from the message into the browser on your phone, or ask your help desk for a new link.")
		return
	case errors.Is(err, enroll.ErrActivationExpired):
		s.showError(c, http.StatusGone, "This activation link has expired",
			"Activation links work for a limited time, and this one ran out.",
			"Ask your help desk to send you a new activation link.")
		return
	case errors.Is(err, enroll.ErrActivationUsed):
		s.showError(c, http.StatusGone, "This activation link was already used",
			"The device was activated with this link, and a link works only once.",
			"If you did not activate it yourself, tell your help desk right away.")
		return
	default:
		s.serverError(c, err)
		return
	}
	c.Set(activationKey, &a)
	c.Next()
}

func currentActivation(c *gin.Context) *enroll.Activation {
	return c.MustGet(activationKey).(*enroll.Activation)
}

func (s *Server) activationWho(c *gin.Context, a *enroll.Activation) audit.Who {
	return audit.Who{Type: audit.ActorUser, Name: a.User.Username, IP: c.ClientIP()}
}

// activationSetup gives this browser's pending secret for the activation,
// starting one when there is none.
func (s *Server) activationSetup(c *gin.Context, a *enroll.Activation) (enroll.AuthenticatorSetup, error) {
	key := sessActivationFor + strconv.FormatInt(a.Code.ID, 10)
	setup, err := s.enroll.BeginActivation(c.Request.Context(), *a, sessionString(c, key), s.activationWho(c, a))
	if err != nil {
		return setup, err
	}
	session(c).Values[key] = setup.ChallengeKey
	return setup, nil
}

type activatePageData struct {
	Code     string
	Setup    enroll.AuthenticatorSetup
	Apps     []appChoice
	Platform string
	Tablet   bool
	Expires  string
	Error    string
}

func (s *Server) renderActivate(c *gin.Context, status int, a *enroll.Activation, setup enroll.AuthenticatorSetup, msg string) {
	s.render(c, status, viewActivate, Page{Title: "Activate this device", Help: helpEnroll, Data: activatePageData{
		Code: c.Param("code"), Setup: setup, Apps: suggestedApps(a.Phone.Platform), Platform: a.Phone.Platform,
		Tablet: a.Phone.Type == store.PhoneTablet, Expires: notify.FormatExpiry(a.Code.ExpiresAt), Error: msg,
	}})
}

// ActivateGET shows the "add to authenticator" button, the QR code and the
// secret of the device's new account, and the code field.
func (s *Server) ActivateGET(c *gin.Context) {
	a := currentActivation(c)
	setup, err := s.activationSetup(c, a)
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.renderActivate(c, http.StatusOK, a, setup, "")
}

// ActivateQRGET draws the otpauth:// URL as a QR code, for activating from
// another screen. Never cached: it carries the secret.
func (s *Server) ActivateQRGET(c *gin.Context) {
	a := currentActivation(c)
	key := sessionString(c, sessActivationFor+strconv.FormatInt(a.Code.ID, 10))
	if key == "" {
		s.writeQR(c, "", enroll.ErrChallengeExpired)
		return
	}
	setup, err := s.enroll.ActivationSetupFor(c.Request.Context(), *a, key)
	s.writeQR(c, setup.OTPAuthURL, err)
}

// ActivateBarcodeGET answers the activation link itself as a QR code: the
// activation_barcode the Admin API hands out, which a phone's camera opens.
// It holds no more than the link's address, which whoever has this URL
// already has.
func (s *Server) ActivateBarcodeGET(c *gin.Context) {
	s.writeQR(c, s.enroll.ActivationURL(c.Param("code")), nil)
}

// ActivatePOST checks the first code of the app; a correct one activates
// the device.
func (s *Server) ActivatePOST(c *gin.Context) {
	a := currentActivation(c)
	setup, err := s.activationSetup(c, a)
	if err != nil {
		s.serverError(c, err)
		return
	}
	code := verify.NormalizeCode(c.PostForm("code"))
	if !verify.ValidCodeShape(code) {
		s.renderActivate(c, http.StatusBadRequest, a, setup, "Enter the 6-digit code your app shows for "+s.mustOrg(c.Request.Context())+".")
		return
	}
	_, err = s.enroll.ConfirmActivation(c.Request.Context(), *a, setup.ChallengeKey, code, s.activationWho(c, a))
	if s.showAccountStopped(c, err) {
		return
	}
	var wrong *verify.WrongCodeError
	switch {
	case err == nil:
	case errors.As(err, &wrong):
		msg := "That code did not work. Enter the code your app shows now; it changes every 30 seconds. " +
			triesLeft(wrong.Remaining) + " If it keeps failing, check that your phone sets its clock automatically."
		s.renderActivate(c, http.StatusUnprocessableEntity, a, setup, msg)
		return
	case errors.Is(err, enroll.ErrChallengeExpired), errors.Is(err, enroll.ErrActivationUsed):
		delete(session(c).Values, sessActivationFor+strconv.FormatInt(a.Code.ID, 10))
		s.showError(c, http.StatusGone, "This set-up has expired",
			"The set-up waited too long, or was finished in another window.",
			"Open the activation link again to start over.")
		return
	default:
		s.serverError(c, err)
		return
	}
	sess := session(c)
	delete(sess.Values, sessActivationFor+strconv.FormatInt(a.Code.ID, 10))
	sess.Values[sessActivatedCode] = c.Param("code")
	s.redirect(c, "/activate/"+c.Param("code")+"/done")
}

// ActivateDoneGET confirms the activation to the browser that finished it.
func (s *Server) ActivateDoneGET(c *gin.Context) {
	if sessionString(c, sessActivatedCode) != c.Param("code") {
		s.notFound(c)
		return
	}
	s.render(c, http.StatusOK, viewActivateDone, Page{Title: "Your device is set up", Help: helpEnroll})
}

type installPage struct {
	Platform string
	Apps     []appChoice
	Both     [][]appChoice
}

// InstallGET says how to install an authenticator app; the first activation
// SMS links here.
func (s *Server) InstallGET(c *gin.Context) {
	platform := map[string]string{"ios": store.PlatformIOS, "android": store.PlatformAndroid}[c.Query("platform")]
	p := installPage{Platform: platform, Apps: suggestedApps(platform)}
	if platform == "" {
		p.Both = [][]appChoice{suggestedApps(store.PlatformIOS), suggestedApps(store.PlatformAndroid)}
	}
	s.render(c, http.StatusOK, viewInstall, Page{Title: "Install an authenticator app", Help: helpEnroll, Data: p})
}
