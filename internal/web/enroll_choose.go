package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewEnrollWelcome = render.Declare("enroll_welcome")
	viewEnrollChoose  = render.Declare("enroll_choose")
)

const helpEnroll = "Stuck? Contact your help desk and say you are setting up two-factor sign-in."

// choosePage is the method picker, on the welcome page and on its own.
type choosePage struct {
	E       *enrollment
	Name    string
	Error   string
	Another bool // adding another device after the first
}

func displayNameOf(u store.User) string {
	if u.RealName != "" {
		return u.RealName
	}
	return u.Username
}

// EnrollWelcomeGET greets the user and offers the kinds of device to add.
func (s *Server) EnrollWelcomeGET(c *gin.Context) {
	e := currentEnrollment(c)
	s.render(c, http.StatusOK, viewEnrollWelcome, Page{Title: "Set up two-factor sign-in", Help: helpEnroll,
		Data: choosePage{E: e, Name: displayNameOf(e.Subject.User)}})
}

// EnrollChooseGET offers the kinds of device again, to add another.
func (s *Server) EnrollChooseGET(c *gin.Context) {
	e := currentEnrollment(c)
	s.render(c, http.StatusOK, viewEnrollChoose, Page{Title: "Choose a device", Help: helpEnroll,
		Data: choosePage{E: e, Name: displayNameOf(e.Subject.User), Another: true}})
}

// EnrollChoosePOST sends the user to the first step for the chosen device.
func (s *Server) EnrollChoosePOST(c *gin.Context) {
	e := currentEnrollment(c)
	method := c.PostForm("method")
	sess := session(c)
	switch {
	case method == store.PhoneMobile && e.Methods.Mobile:
		sess.Values[e.stateKey("type")] = store.PhoneMobile
		s.redirect(c, e.stepPath("phone"))
	case method == store.PhoneTablet && e.Methods.Tablet:
		sess.Values[e.stateKey("type")] = store.PhoneTablet
		delete(sess.Values, e.stateKey("number"))
		s.redirect(c, e.stepPath("platform"))
	case method == store.ChallengeSecurityKey && e.Methods.SecurityKey:
		s.redirect(c, e.stepPath("key"))
	default:
		s.render(c, http.StatusBadRequest, viewEnrollChoose, Page{Title: "Choose a device", Help: helpEnroll,
			Data: choosePage{E: e, Name: displayNameOf(e.Subject.User), Another: true,
				Error: "Choose the kind of device you want to set up."}})
	}
}
