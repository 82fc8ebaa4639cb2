package web

import (
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/duo"
	"enrollportal/internal/throttle"
)

// oauthRoutes mounts the Universal Prompt's client endpoints (health_check,
// authorize, token). Authorize errors are shown with the portal's error
// page; a verified request goes on to the prompt pages.
func (s *Server) oauthRoutes(r gin.IRouter) {
	o := &duo.OAuth{
		Prompt: s.prompt, Log: s.log, ShowError: s.showError,
		PromptPath: func(token string) string { return "/prompt/" + token },
		// A person signs in a few times a minute at most; a whole office
		// behind one address still fits in 120 a minute.
		Authorizations: throttle.New(s.clock, 120, 500*time.Millisecond),
	}
	o.Register(r)
}
