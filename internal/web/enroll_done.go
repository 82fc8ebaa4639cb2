package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewEnrollDone = render.Declare("enroll_done")

// factorLine is one enrolled device as the done page lists it.
type factorLine struct {
	Kind   string
	Detail string
}

type donePage struct {
	E       *enrollment
	Factors []factorLine
}

// describeFactors lists the devices for the done page. A number this
// browser typed (typed) is shown in full to the person who typed it; the
// others are masked, since someone else may have set them up.
func describeFactors(f policy.Factors, typed []string) []factorLine {
	var out []factorLine
	for _, p := range f.Phones {
		if !p.Activated {
			continue
		}
		line := factorLine{Kind: "Tablet", Detail: p.Platform}
		if p.Type == store.PhoneMobile {
			number := enroll.FormatNumber(p.Number)
			if !slices.Contains(typed, p.Number) {
				number = maskNumber(number)
			}
			line = factorLine{Kind: "Mobile phone", Detail: p.Platform + ", " + number}
		}
		out = append(out, line)
	}
	for _, k := range f.SecurityKeys {
		line := factorLine{Kind: "Security key", Detail: k.Name}
		// A key left with the default name would read "Security key" twice.
		if strings.EqualFold(strings.TrimSpace(k.Name), enroll.DefaultKeyName) {
			line.Detail = ""
		}
		out = append(out, line)
	}
	return out
}

// typedNumbersKey names the session value listing the numbers this browser
// typed and proved, comma-separated.
const typedNumbersKey = "typed_numbers"

// rememberTypedNumber notes that this browser typed and proved number, so
// that the done page may show it in full.
func rememberTypedNumber(c *gin.Context, e *enrollment, number string) {
	if number == "" {
		return
	}
	typed := typedNumbers(c, e)
	if slices.Contains(typed, number) {
		return
	}
	session(c).Values[e.stateKey(typedNumbersKey)] = strings.Join(append(typed, number), ",")
}

func typedNumbers(c *gin.Context, e *enrollment) []string {
	v := sessionString(c, e.stateKey(typedNumbersKey))
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// maskNumber keeps only the last digits of a phone number on screen.
func maskNumber(n string) string {
	b := []byte(n)
	digits := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			digits++
			if digits > 4 {
				b[i] = '*'
			}
		}
	}
	return string(b)
}

// EnrollDoneGET confirms the set-up and lists what is enrolled, with "add
// another device".
func (s *Server) EnrollDoneGET(c *gin.Context) {
	e := currentEnrollment(c)
	if !s.hasGrant(c, e.grantKey) {
		s.redirect(c, e.Base)
		return
	}
	u, err := s.store.UserByUsername(c.Request.Context(), e.Subject.User.Username)
	if err != nil {
		s.serverError(c, err)
		return
	}
	f, err := s.enroll.FactorsOf(c.Request.Context(), u.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.render(c, http.StatusOK, viewEnrollDone, Page{Title: "You are set up", Help: helpEnroll,
		Data: donePage{E: e, Factors: describeFactors(f, typedNumbers(c, e))}})
}
