package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
	"enrollportal/internal/web/render"
)

var viewEnrollApp = render.Declare("enroll_app")

// appChoice is an authenticator app we suggest, with where to get it.
type appChoice struct {
	Name  string
	Store string // "the App Store", "Google Play": as the sentence "from ..." needs it
	URL   string
}

// suggestedApps lists compatible apps per platform. They are plain links:
// the page loads nothing from these sites.
func suggestedApps(platform string) []appChoice {
	switch platform {
	case store.PlatformIOS:
		return []appChoice{
			{"Microsoft Authenticator", "the App Store", "https://apps.apple.com/app/microsoft-authenticator/id983156458"},
			{"Google Authenticator", "the App Store", "https://apps.apple.com/app/google-authenticator/id388497605"},
			{"Duo Mobile", "the App Store", "https://apps.apple.com/app/duo-mobile/id422663827"},
		}
	case store.PlatformAndroid:
		return []appChoice{
			{"Microsoft Authenticator", "Google Play", "https://play.google.com/store/apps/details?id=com.azure.authenticator"},
			{"Google Authenticator", "Google Play", "https://play.google.com/store/apps/details?id=com.google.android.apps.authenticator2"},
			{"Duo Mobile", "Google Play", "https://play.google.com/store/apps/details?id=com.duosecurity.duomobile"},
		}
	}
	return nil
}

type appPage struct {
	E        *enrollment
	Setup    enroll.AuthenticatorSetup
	Apps     []appChoice
	Platform string
	Error    string
	Code     string
}

// setupFromSession finds the authenticator set-up this browser started.
func (s *Server) setupFromSession(c *gin.Context, e *enrollment) (enroll.AuthenticatorSetup, error) {
	key := sessionString(c, e.stateKey("challenge"))
	if key == "" {
		return enroll.AuthenticatorSetup{}, enroll.ErrChallengeExpired
	}
	return s.enroll.AuthenticatorSetupFor(c.Request.Context(), e.Subject, key)
}

// setupExpired tells the user their set-up took too long and offers a fresh
// start. A browser that has just finished a set-up (back from the done page,
// or a form sent twice) is told that its device is set up instead.
func (s *Server) setupExpired(c *gin.Context, e *enrollment) {
	delete(session(c).Values, e.stateKey("challenge"))
	if s.hasGrant(c, e.grantKey) {
		s.redirect(c, e.stepPath("done"))
		return
	}
	s.showErrorLink(c, http.StatusGone, "This set-up has expired",
		"For your safety, a set-up must be finished within 10 minutes, and this one took longer.",
		"Start again: it only takes a minute.", e.stepPath("choose"), "Start again")
}

func (s *Server) renderApp(c *gin.Context, status int, e *enrollment, setup enroll.AuthenticatorSetup, msg string) {
	s.render(c, status, viewEnrollApp, Page{Title: "Set up your authenticator app", Help: helpEnroll, Data: appPage{
		E: e, Setup: setup, Apps: suggestedApps(setup.Draft.Platform), Platform: setup.Draft.Platform, Error: msg,
	}})
}

// EnrollAppGET shows how to install an app, the QR code, the secret as text
// and the code field.
func (s *Server) EnrollAppGET(c *gin.Context) {
	e := currentEnrollment(c)
	setup, err := s.setupFromSession(c, e)
	if errors.Is(err, enroll.ErrChallengeExpired) {
		if sessionString(c, e.stateKey("challenge")) == "" {
			// Back from the done page lands here: say the device is set up.
			if s.hasGrant(c, e.grantKey) {
				s.redirect(c, e.stepPath("done"))
				return
			}
			s.redirect(c, e.stepPath("choose"))
			return
		}
		s.setupExpired(c, e)
		return
	}
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.renderApp(c, http.StatusOK, e, setup, "")
}

// EnrollAppQRGET draws the otpauth:// URL as a QR code. It is never cached:
// it carries the secret.
func (s *Server) EnrollAppQRGET(c *gin.Context) {
	e := currentEnrollment(c)
	setup, err := s.setupFromSession(c, e)
	s.writeQR(c, setup.OTPAuthURL, err)
}

// writeQR answers a set-up's otpauth:// URL as a QR code PNG, or 404 when
// the set-up could not be found (err). It is never cached: it carries the
// secret.
func (s *Server) writeQR(c *gin.Context, otpauthURL string, err error) {
	c.Header("Cache-Control", "no-store")
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	// A whole number of pixels per module (negative size) keeps the code
	// crisp: scaled modules of uneven width defeat some phone cameras.
	png, err := qrcode.Encode(otpauthURL, qrcode.Medium, -5)
	if err != nil {
		s.log.Error("qr code", "err", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}

// EnrollAppPOST checks the first code from the app. Only a correct code
// activates the device; until then nothing counts as enrolled.
func (s *Server) EnrollAppPOST(c *gin.Context) {
	e := currentEnrollment(c)
	key := sessionString(c, e.stateKey("challenge"))
	if key == "" {
		s.setupExpired(c, e)
		return
	}
	// The set-up is loaded again only to show the page once more; a correct
	// code needs nothing but its key.
	reshow := func(status int, msg string) {
		setup, err := s.setupFromSession(c, e)
		switch {
		case errors.Is(err, enroll.ErrChallengeExpired):
			s.setupExpired(c, e)
		case err != nil:
			s.serverError(c, err)
		default:
			s.renderApp(c, status, e, setup, msg)
		}
	}
	code := verify.NormalizeCode(c.PostForm("code"))
	if !verify.ValidCodeShape(code) {
		// A malformed entry is a typo, not a guess: it does not count.
		reshow(http.StatusBadRequest, "Enter the 6-digit code your app shows for "+s.mustOrg(c.Request.Context())+".")
		return
	}
	ph, err := s.enroll.ConfirmAuthenticator(c.Request.Context(), e.Subject, key, code)
	var wrong *verify.WrongCodeError
	switch {
	case err == nil:
	case errors.Is(err, enroll.ErrOlderSetup):
		reshow(http.StatusUnprocessableEntity, "You scanned an older code. In the app, remove the "+
			s.mustOrg(c.Request.Context())+" entry you added before, then scan the code on this page and enter the new 6-digit code.")
		return
	case errors.As(err, &wrong):
		msg := "That code did not work. Enter the code your app shows now; it changes every 30 seconds."
		if wrong.Remaining >= 0 {
			msg += " " + triesLeft(wrong.Remaining)
		}
		msg += " If it keeps failing, check that your phone sets its clock automatically."
		reshow(http.StatusUnprocessableEntity, msg)
		return
	case errors.Is(err, enroll.ErrChallengeExpired):
		s.setupExpired(c, e)
		return
	default:
		s.showEnrollmentProblem(c, err)
		return
	}
	s.metrics.enrollmentCompleted.WithLabelValues(ph.Type).Inc()
	rememberTypedNumber(c, e, ph.Number)
	sess := session(c)
	for _, k := range []string{"challenge", "type", "number"} {
		delete(sess.Values, e.stateKey(k))
	}
	s.grant(c, e)
	s.redirect(c, e.stepPath("done"))
}
