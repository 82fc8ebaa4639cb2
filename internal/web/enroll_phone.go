package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewEnrollPhone    = render.Declare("enroll_phone")
	viewEnrollPlatform = render.Declare("enroll_platform")
)

// countryOption is one entry of the country list.
type countryOption struct {
	Region  string
	Label   string // "Germany (+49)"
	Example string // a mobile number that validates there, for the hint
}

// countryOptions is built once: every region the phone library knows, by
// English name.
var countryOptions = func() []countryOption {
	names := display.English.Regions()
	var out []countryOption
	for _, c := range enroll.Countries() {
		r, err := language.ParseRegion(c.Region)
		name := c.Region
		if err == nil {
			if n := names.Name(r); n != "" {
				name = n
			}
		}
		out = append(out, countryOption{Region: c.Region, Label: name + " (+" + strconv.Itoa(c.Code) + ")", Example: enroll.ExampleMobile(c.Region)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}()

func validRegion(r string) bool {
	return countryOf(r).Region != ""
}

func countryOf(r string) countryOption {
	for _, c := range countryOptions {
		if c.Region == r {
			return c
		}
	}
	return countryOption{}
}

type phonePage struct {
	E         *enrollment
	Countries []countryOption
	Country   string
	Number    string
	Error     string
}

// Example is the hint's example number, for the chosen country.
func (p phonePage) Example() string { return countryOf(p.Country).Example }

// EnrollPhoneGET asks for the mobile number.
func (s *Server) EnrollPhoneGET(c *gin.Context) {
	e := currentEnrollment(c)
	if !e.Methods.Mobile {
		s.redirect(c, e.stepPath("choose"))
		return
	}
	country := sessionString(c, e.stateKey("country"))
	if country == "" {
		country = "US"
	}
	number := sessionString(c, e.stateKey("number"))
	if number != "" {
		number = enroll.FormatNumber(number)
	}
	s.render(c, http.StatusOK, viewEnrollPhone, Page{Title: "Your mobile number", Help: helpEnroll,
		Data: phonePage{E: e, Countries: countryOptions, Country: country, Number: number}})
}

// EnrollPhonePOST checks the number and keeps it, in E.164, for the next step.
func (s *Server) EnrollPhonePOST(c *gin.Context) {
	e := currentEnrollment(c)
	if !e.Methods.Mobile {
		s.redirect(c, e.stepPath("choose"))
		return
	}
	country := strings.ToUpper(strings.TrimSpace(c.PostForm("country")))
	number := strings.TrimSpace(c.PostForm("number"))
	page := phonePage{E: e, Countries: countryOptions, Country: country, Number: number}
	if !validRegion(country) {
		page.Country = "US"
		page.Error = "Choose your country from the list."
		s.render(c, http.StatusBadRequest, viewEnrollPhone, Page{Title: "Your mobile number", Help: helpEnroll, Data: page})
		return
	}
	if number == "" {
		page.Error = "Enter your mobile number."
		s.render(c, http.StatusBadRequest, viewEnrollPhone, Page{Title: "Your mobile number", Help: helpEnroll, Data: page})
		return
	}
	parsed, err := enroll.ParsePhoneNumber(country, number)
	if err != nil {
		page.Error = "That does not look like a mobile number in the country you chose. Check the number and the country."
		if errors.Is(err, enroll.ErrNotMobile) {
			page.Error = "That looks like a landline number. Enter the number of the mobile phone you will use."
		}
		if len(page.Number) > 40 {
			page.Number = page.Number[:40]
		}
		s.render(c, http.StatusBadRequest, viewEnrollPhone, Page{Title: "Your mobile number", Help: helpEnroll, Data: page})
		return
	}
	sess := session(c)
	sess.Values[e.stateKey("type")] = store.PhoneMobile
	sess.Values[e.stateKey("country")] = country
	sess.Values[e.stateKey("number")] = parsed.E164
	s.redirect(c, e.stepPath("platform"))
}

// platformChoice is one platform radio button.
type platformChoice struct {
	Value string
	Label string
}

func platformChoices(phoneType string) []platformChoice {
	if phoneType == store.PhoneTablet {
		return []platformChoice{
			{store.PlatformIOS, "iPad"},
			{store.PlatformAndroid, "Android tablet"},
			{store.PlatformGeneric, "Another kind of tablet"},
		}
	}
	return []platformChoice{
		{store.PlatformIOS, "iPhone"},
		{store.PlatformAndroid, "Android phone"},
		{store.PlatformGeneric, "Another kind of smartphone"},
	}
}

type platformPage struct {
	E         *enrollment
	Type      string
	Number    string // shown back for confirmation, mobiles only
	Platforms []platformChoice
	Platform  string
	Error     string
}

// draft reads the device the user is adding from the session.
func (s *Server) draft(c *gin.Context, e *enrollment) (phoneType, number string, ok bool) {
	phoneType = sessionString(c, e.stateKey("type"))
	number = sessionString(c, e.stateKey("number"))
	switch phoneType {
	case store.PhoneMobile:
		return phoneType, number, number != "" && e.Methods.Mobile
	case store.PhoneTablet:
		return phoneType, "", e.Methods.Tablet
	}
	return "", "", false
}

func (s *Server) platformPage(c *gin.Context, e *enrollment, phoneType, number, platform, msg string) Page {
	title := "What kind of phone is it?"
	if phoneType == store.PhoneTablet {
		title = "What kind of tablet is it?"
	}
	shown := ""
	if number != "" {
		shown = enroll.FormatNumber(number)
	}
	return Page{Title: title, Help: helpEnroll, Data: platformPage{
		E: e, Type: phoneType, Number: shown, Platforms: platformChoices(phoneType), Platform: platform, Error: msg}}
}

// EnrollPlatformGET reads the number back and asks which platform it is.
func (s *Server) EnrollPlatformGET(c *gin.Context) {
	e := currentEnrollment(c)
	phoneType, number, ok := s.draft(c, e)
	if !ok {
		s.redirect(c, e.stepPath("choose"))
		return
	}
	s.render(c, http.StatusOK, viewEnrollPlatform, s.platformPage(c, e, phoneType, number, platformFromAgent(c.Request.UserAgent()), ""))
}

// platformFromAgent guesses the platform from the browser's user agent, to
// preselect it: the person is most likely on the device they are adding.
// It is only a default; the person picks.
func platformFromAgent(ua string) string {
	switch {
	case strings.Contains(ua, "Android"):
		return store.PlatformAndroid
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		return store.PlatformIOS
	}
	return ""
}

// EnrollPlatformPOST starts the authenticator set-up: a fresh secret is kept
// server-side until the first code proves it.
func (s *Server) EnrollPlatformPOST(c *gin.Context) {
	e := currentEnrollment(c)
	phoneType, number, ok := s.draft(c, e)
	if !ok {
		s.redirect(c, e.stepPath("choose"))
		return
	}
	platform := c.PostForm("platform")
	if !enroll.ValidPlatform(platform) {
		s.render(c, http.StatusBadRequest, viewEnrollPlatform,
			s.platformPage(c, e, phoneType, number, "", "Choose the kind of device from the list."))
		return
	}
	// Back and Continue keep the secret this browser already has: the
	// account may be in the app already.
	setup, err := s.enroll.ResumeAuthenticator(c.Request.Context(), e.Subject,
		enroll.PhoneDraft{Type: phoneType, Number: number, Platform: platform}, sessionString(c, e.stateKey("challenge")))
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.metrics.enrollmentStarted.WithLabelValues(phoneType).Inc()
	session(c).Values[e.stateKey("challenge")] = setup.ChallengeKey
	s.redirect(c, e.stepPath("app"))
}
