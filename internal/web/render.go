package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/web/render"
)

var viewHome = render.Declare("home")

// Page is what every template gets (render.Page).
type Page = render.Page

// render writes the page name with status, saving the session first.
func (s *Server) render(c *gin.Context, status int, name string, p Page) {
	s.pages.Render(c, status, name, p)
}

// redirect answers a form post with 303 See Other to a path of the portal
// (Post/Redirect/Get).
func (s *Server) redirect(c *gin.Context, path string) { s.pages.Redirect(c, path) }

// showError renders the one error page. Never pass err.Error() as message:
// causes go to the log, sentences to the user.
func (s *Server) showError(c *gin.Context, status int, heading, message, next string) {
	s.pages.ShowError(c, status, heading, message, next)
}

// showErrorLink is showError with the way on as a button.
func (s *Server) showErrorLink(c *gin.Context, status int, heading, message, next, link, linkText string) {
	s.pages.ShowErrorLink(c, status, heading, message, next, link, linkText)
}

// serverError logs cause and shows the generic failure page.
func (s *Server) serverError(c *gin.Context, cause error) { s.pages.ServerError(c, cause) }

func (s *Server) tooManyRequests(c *gin.Context, retryAfterSeconds int) {
	s.pages.TooManyRequests(c, retryAfterSeconds)
}

func (s *Server) mustOrg(ctx context.Context) string { return s.pages.Org(ctx) }

// notFound lets the API answer its own unknown paths; every other address
// gets the page.
func (s *Server) notFound(c *gin.Context) {
	if s.apiUnmatched(c, http.StatusNotFound) {
		return
	}
	s.pages.NotFound(c)
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	if s.apiUnmatched(c, http.StatusMethodNotAllowed) {
		return
	}
	s.pages.MethodNotAllowed(c)
}

// OrgLogoGET serves the uploaded logo (public: every page shows it).
func (s *Server) OrgLogoGET(c *gin.Context) {
	data, ctype, _ := s.pages.Logo().Get(c.Request.Context())
	if data == nil {
		s.notFound(c)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, ctype, data)
}
