package web

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/verify"
)

// enrollment is the context every enrollment step works in, set by a loader
// middleware: the link loader here, or the inline prompt's. The steps only
// read it, so the same handlers serve both.
type enrollment struct {
	Subject enroll.Subject
	// Base is the path the steps hang under: /enroll/TOKEN.
	Base string
	// AppName names the application the user is enrolling for (inline).
	AppName string
	Methods allowedMethods
	// Continue is where the done page sends the user on; empty means they
	// are finished and may close the window.
	Continue string
	// grantKey names the session value that lets this browser keep adding
	// devices after the link is used up.
	grantKey string
	// NeedsProof: the user already has a factor and this browser has not
	// proved one, so the link's steps ask for it first (enroll_prove.go).
	NeedsProof bool
}

// allowedMethods are the kinds of device the policy lets users add.
type allowedMethods struct {
	Mobile, Tablet, SecurityKey bool
}

func (m allowedMethods) any() bool { return m.Mobile || m.Tablet || m.SecurityKey }

// methodsFrom maps a policy's enrollment methods to the device kinds offered.
func methodsFrom(p store.Policy) allowedMethods {
	var m allowedMethods
	for _, method := range p.EnrollMethods {
		switch method {
		case store.MethodAuthenticatorApp:
			m.Mobile, m.Tablet = true, true
		case store.MethodSecurityKey:
			m.SecurityKey = true
		}
	}
	return m
}

const enrollmentKey = "enrollment"

func currentEnrollment(c *gin.Context) *enrollment {
	return c.MustGet(enrollmentKey).(*enrollment)
}

// grantTTL is how long a browser that proved a factor may keep adding
// devices through the same link after it is used up.
const grantTTL = 30 * 60 // seconds

func (s *Server) hasGrant(c *gin.Context, key string) bool {
	until := sessionInt(c, key)
	return until != 0 && s.clock.Now().Unix() < until
}

// grant lets this browser go on adding devices for a while; called when a
// factor is proved.
func (s *Server) grant(c *gin.Context, e *enrollment) {
	session(c).Values[e.grantKey] = s.clock.Now().Unix() + grantTTL
}

// who is the audit actor of an end user's request: the enrollment pages and
// the Universal Prompt alike.
func (s *Server) who(c *gin.Context, username string) audit.Who {
	return audit.Who{Type: audit.ActorUser, Name: username, IP: c.ClientIP()}
}

// loadLinkEnrollment resolves /enroll/:token: an enrollment link, or a
// signed inline token handed out by a login. Unknown tokens are throttled per
// client address, and the throttle is checked before the lookup so that a
// refused client learns nothing about the token.
func (s *Server) loadLinkEnrollment(c *gin.Context) {
	token := c.Param("token")
	ip := c.ClientIP()
	if s.linkTries.Exhausted(ip) {
		s.tooManyRequests(c, int(s.linkTries.RetryAfter().Seconds()))
		return
	}
	var e *enrollment
	var err error
	if enroll.IsInlineToken(token) {
		e, err = s.inlineEnrollment(c, token)
	} else {
		e, err = s.linkEnrollment(c, token)
	}
	if err != nil {
		if errors.Is(err, enroll.ErrLinkNotFound) {
			s.linkTries.Allow(ip)
		}
		if errors.Is(err, enroll.ErrLinkExpired) && !enroll.IsInlineToken(token) {
			s.showExpiredLink(c, token)
			return
		}
		s.showEnrollmentProblem(c, err)
		return
	}
	e.Base = "/enroll/" + token
	if !s.proveFirst(c, e) {
		return
	}
	if !e.Methods.any() {
		s.showError(c, http.StatusForbidden, "Enrollment is turned off",
			"Your organisation does not let people add devices here at the moment.",
			"Contact your help desk.")
		return
	}
	c.Set(enrollmentKey, e)
	c.Next()
}

// errDeniedLocation means the policy refuses the client's country.
var errDeniedLocation = errors.New("web: enrollment denied from this location")

// enrollmentMethods applies the policy to an enrollment: the global policy
// for a link, the application's (with the user's group overrides) for an
// inline one. A denied location blocks enrollment as it blocks sign-in.
func (s *Server) enrollmentMethods(c *gin.Context, appKey string, userID int64) (allowedMethods, error) {
	ctx := c.Request.Context()
	var app store.Application
	if appKey != "" {
		a, err := s.store.ApplicationByKey(ctx, appKey)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return allowedMethods{}, err
		}
		app = a
	}
	var groups []int64
	// Group overrides live within an application; a link follows the
	// global policy, so its user's groups do not matter.
	if userID != 0 && app.ID != 0 {
		gs, err := s.store.GroupsOfUser(ctx, userID)
		if err != nil {
			return allowedMethods{}, err
		}
		for _, g := range gs {
			groups = append(groups, g.ID)
		}
	}
	eff, err := s.policy.EffectiveFor(ctx, app, groups)
	if err != nil {
		return allowedMethods{}, err
	}
	if country := s.policy.Country(net.ParseIP(c.ClientIP())); country != "" && slices.Contains(eff.DeniedCountries, country) {
		return allowedMethods{}, errDeniedLocation
	}
	return methodsFrom(store.Policy{EnrollMethods: eff.EnrollMethods}), nil
}

func (s *Server) linkEnrollment(c *gin.Context, token string) (*enrollment, error) {
	link, u, err := s.enroll.OpenLink(c.Request.Context(), token)
	grantKey := "grant:link:" + strconv.Itoa(int(link.ID))
	switch {
	case err == nil:
	case errors.Is(err, enroll.ErrLinkUsed) || errors.Is(err, enroll.ErrLinkExpired):
		// The browser that used the link up may finish adding devices.
		if !s.hasGrant(c, grantKey) {
			return nil, err
		}
	default:
		return nil, err
	}
	if err := policy.StatusError(u); err != nil {
		return nil, err
	}
	methods, err := s.enrollmentMethods(c, "", u.ID)
	if err != nil {
		return nil, err
	}
	sub := enroll.Subject{User: u, LinkID: link.ID, Who: s.who(c, u.Username),
		Proved: s.hasGrant(c, grantKey) || s.hasProof(c, u.ID)}
	needsProof, err := s.enroll.NeedsProof(c.Request.Context(), sub)
	if err != nil {
		return nil, err
	}
	return &enrollment{Subject: sub, Methods: methods, grantKey: grantKey, NeedsProof: needsProof}, nil
}

func (s *Server) inlineEnrollment(c *gin.Context, token string) (*enrollment, error) {
	claims, err := s.enroll.OpenInline(token)
	grantKey := "grant:user:" + claims.Username
	if err != nil && !(errors.Is(err, enroll.ErrLinkExpired) && s.hasGrant(c, grantKey)) {
		return nil, err
	}
	ctx := c.Request.Context()
	u, err := s.store.UserByUsername(ctx, claims.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = enroll.NewSubjectUser(claims.Username)
	case err != nil:
		return nil, err
	default:
		if err := policy.StatusError(u); err != nil {
			return nil, err
		}
		// An inline URL only lets a user with no device enrol; adding to an
		// enrolled account takes a link from the help desk, unless this
		// browser has just enrolled the first device.
		if !s.hasGrant(c, grantKey) {
			f, err := s.enroll.FactorsOf(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			if f.Any() {
				return nil, enroll.ErrAlreadyEnrolled
			}
		}
	}
	methods, err := s.enrollmentMethods(c, claims.AppKey, u.ID)
	if err != nil {
		return nil, err
	}
	return &enrollment{
		// Only the browser that enrolled the first device may add more.
		Subject:  enroll.Subject{User: u, Who: s.who(c, u.Username), Proved: s.hasGrant(c, grantKey)},
		AppName:  claims.AppName,
		Methods:  methods,
		grantKey: grantKey,
	}, nil
}

// showEnrollmentProblem says what is wrong with a link and what to do.
func (s *Server) showEnrollmentProblem(c *gin.Context, err error) {
	if s.showAccountStopped(c, err) {
		return
	}
	switch {
	case errors.Is(err, enroll.ErrLinkNotFound):
		s.showError(c, http.StatusNotFound, "This enrollment link does not work",
			"We could not find this enrollment link. Part of it may be missing.",
			"Copy the whole link from your email into the address bar. If it still does not work, ask your help desk for a new link.")
	case errors.Is(err, enroll.ErrLinkExpired):
		s.showError(c, http.StatusGone, "This enrollment link has expired",
			"Enrollment links only work for a limited time, and this one is too old.",
			"Ask your help desk to send you a new link, or sign in again to get a fresh one.")
	case errors.Is(err, enroll.ErrLinkUsed):
		s.showError(c, http.StatusGone, "This enrollment link has already been used",
			"Someone finished setting up a device with this link, so it no longer works.",
			"If that was you, you are all set. If it was not you, or you need to add another device, contact your help desk.")
	case errors.Is(err, enroll.ErrLinkRevoked):
		s.showError(c, http.StatusGone, "This enrollment link is no longer valid",
			"This link was cancelled, or a newer link was sent to you.",
			"Use the newest enrollment email you received, or ask your help desk for a new link.")
	case errors.Is(err, enroll.ErrAlreadyEnrolled):
		s.showError(c, http.StatusGone, "You are already set up",
			"Your account already has a device for two-factor sign-in, so this link cannot add another.",
			"Go back and sign in with your device. To add a new one, ask your help desk for an enrollment link.")
	case errors.Is(err, enroll.ErrProofRequired):
		s.showError(c, http.StatusForbidden, "Confirm it's you first",
			"Your account already has a device, so adding another needs a code from it first.",
			"Open your enrollment link again and enter a code from your device. If you lost it, ask your help desk for a reset.")
	case errors.Is(err, errDeniedLocation):
		s.showError(c, http.StatusForbidden, "Not available from your location",
			"Your organisation does not allow setting up devices from the country you are connecting from.",
			"Try again from another location, or contact your help desk.")
	default:
		s.serverError(c, err)
	}
}

// showAccountStopped shows the page of a user whom the status gate stops
// from adding a device (policy.StatusDenial: disabled, or locked out after
// wrong codes), on an enrollment or an activation link alike, and reports
// whether err was such a stop.
func (s *Server) showAccountStopped(c *gin.Context, err error) bool {
	switch {
	case errors.Is(err, enroll.ErrUserDisabled):
		s.showError(c, http.StatusForbidden, "Your account is disabled",
			"Your account cannot set up devices right now.",
			"Contact your help desk.")
	case errors.Is(err, verify.ErrLockedOut):
		s.showError(c, http.StatusForbidden, "Your account is locked",
			"There were too many wrong codes, so your account was locked to keep it safe.",
			"Contact your help desk to unlock it.")
	default:
		return false
	}
	return true
}

// stepPath is the address of a step of the current enrollment.
func (e *enrollment) stepPath(step string) string {
	if step == "" {
		return e.Base
	}
	return e.Base + "/" + strings.TrimPrefix(step, "/")
}

// stateKey names a per-enrollment session value, so that two enrollments in
// one browser do not mix their steps.
func (e *enrollment) stateKey(name string) string {
	return "enroll:" + e.Subject.User.Username + ":" + name
}
