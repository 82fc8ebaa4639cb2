package web

import (
	"errors"
	"slices"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/prompt"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// promptEnrollRoutes mounts inline enrollment under the prompt: the very
// steps of the enrollment link, with the prompt's login as their subject.
// When the user has a device, the done page's Continue leads to verify,
// where they prove it before going back to the application.
func (s *Server) promptEnrollRoutes(g *gin.RouterGroup) {
	s.EnrollSteps(g.Group("/enroll", s.loadPromptEnrollment))
	g.GET("/verify", s.PromptVerifyGET)
}

// justEnrolledKey marks, in the session, a login whose user has just set up
// their first device, so the passcode page can say to wait for a new code.
func justEnrolledKey(t *prompt.Transaction) string { return promptSessionPrefix + t.TxID + ":new" }

// promptUsername is the portal's username for the login's duo_uname.
func promptUsername(t *prompt.Transaction) string { return policy.NormalizeUsername(t.App, t.Username) }

// loadPromptEnrollment is the prompt's subject loader for the enrollment
// steps: the user the application named, who must enroll. A user unknown
// until now is created when they prove their first device.
func (s *Server) loadPromptEnrollment(c *gin.Context) {
	t := tx(c)
	ctx := c.Request.Context()
	if t.Finished() {
		s.redirect(c, promptPath(c, "done"))
		return
	}
	if t.Decision != prompt.DecisionEnroll {
		s.redirect(c, promptPath(c, ""))
		return
	}
	username := promptUsername(t)
	if users.ValidateUsername(username) != nil {
		s.promptDeny(c, t, nil, "invalid_username",
			"Your username cannot be used for two-factor sign-in. Contact your help desk.")
		return
	}
	grantKey := "grant:prompt:" + t.TxID
	u, err := s.store.UserByUsername(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = enroll.NewSubjectUser(username)
	case err != nil:
		s.serverError(c, err)
		return
	default:
		if err := policy.StatusError(u); err != nil {
			s.showEnrollmentProblem(c, err)
			return
		}
		if !s.hasGrant(c, grantKey) {
			f, err := s.enroll.FactorsOf(ctx, u.ID)
			if err != nil {
				s.serverError(c, err)
				return
			}
			switch {
			case f.EnrolledUnder(t.AuthMethods):
				// Enrolled meanwhile (in another window): prove it instead.
				s.redirect(c, promptPath(c, "verify"))
				return
			case f.Any():
				// Inline enrollment adds no device to an account that
				// holds one, even one this application does not accept.
				s.promptDeny(c, t, &u, "no_allowed_method",
					"None of your two-factor methods is allowed for this application.")
				return
			}
		}
	}
	e := &enrollment{
		// Only the browser that enrolled the first device may add more.
		Subject:  enroll.Subject{User: u, Who: s.who(c, username), Proved: s.hasGrant(c, grantKey)},
		Base:     promptPath(c, "enroll"),
		AppName:  t.App.Name,
		Methods:  methodsOfList(t.EnrollMethods),
		Continue: promptPath(c, "verify"),
		grantKey: grantKey,
	}
	if !e.Methods.any() {
		s.promptDeny(c, t, nil, "enrollment_not_allowed",
			"You need to set up two-factor sign-in, but your organisation does not let people add devices here. Contact your help desk.")
		return
	}
	c.Set(enrollmentKey, e)
	c.Next()
}

func methodsOfList(list []string) allowedMethods {
	return allowedMethods{
		Mobile:      slices.Contains(list, store.MethodAuthenticatorApp),
		Tablet:      slices.Contains(list, store.MethodAuthenticatorApp),
		SecurityKey: slices.Contains(list, store.MethodSecurityKey),
	}
}

// promptDeny ends the login with a denial and shows it.
func (s *Server) promptDeny(c *gin.Context, t *prompt.Transaction, u *store.User, reason, message string) {
	if err := s.prompt.Fail(c.Request.Context(), t, u, prompt.FactorNotAvailable, reason, message); err != nil {
		s.serverError(c, err)
		return
	}
	s.redirect(c, promptPath(c, "done"))
}

// PromptVerifyGET follows inline enrollment: once the user has a device,
// the login becomes an ordinary one and they prove the device they just
// set up.
func (s *Server) PromptVerifyGET(c *gin.Context) {
	t := tx(c)
	ctx := c.Request.Context()
	if t.Finished() || t.Decision != prompt.DecisionEnroll {
		s.redirect(c, promptPath(c, ""))
		return
	}
	u, err := s.store.UserByUsername(ctx, promptUsername(t))
	if errors.Is(err, store.ErrNotFound) {
		s.redirect(c, promptPath(c, "enroll"))
		return
	}
	if err != nil {
		s.serverError(c, err)
		return
	}
	f, err := s.enroll.FactorsOf(ctx, u.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	if !f.Any() {
		s.redirect(c, promptPath(c, "enroll"))
		return
	}
	if err := s.prompt.Enrolled(ctx, t, u); err != nil {
		s.serverError(c, err)
		return
	}
	session(c).Values[justEnrolledKey(t)] = s.clock.Now().Unix()
	s.redirect(c, promptPath(c, ""))
}
