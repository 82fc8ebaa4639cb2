package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
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

func describeFactors(f enroll.Factors) []factorLine {
	var out []factorLine
	for _, p := range f.Phones {
		if !p.Activated {
			continue
		}
		line := factorLine{Kind: "Tablet", Detail: p.Platform}
		if p.Type == store.PhoneMobile {
			line = factorLine{Kind: "Mobile phone", Detail: p.Platform + ", " + maskNumber(enroll.FormatNumber(p.Number))}
		}
		out = append(out, line)
	}
	for _, k := range f.SecurityKeys {
		out = append(out, factorLine{Kind: "Security key", Detail: k.Name})
	}
	return out
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
		Data: donePage{E: e, Factors: describeFactors(f)}})
}
