package web

import (
	"github.com/gin-gonic/gin"
)

// routes is the one place where every route of the portal is registered.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Client addresses come from the connection, never from headers a
	// client can forge; only behind the proxies the operator named
	// (PORTAL_TRUSTED_PROXIES, set by New) from the X-Forwarded-For they
	// append to, read from the right past every trusted hop.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	_ = r.SetTrustedProxies(nil)
	r.HandleMethodNotAllowed = true
	r.Use(s.recoverPanics, s.securityHeaders, s.observe)
	r.NoRoute(s.notFound)
	r.NoMethod(s.methodNotAllowed)

	r.GET("/healthz", s.Healthz)
	r.GET("/readyz", s.Readyz)
	r.GET("/metrics", s.Metrics)
	r.GET("/assets/*file", s.Asset)
	r.GET("/favicon.ico", s.Favicon)
	r.GET("/", s.Home)
	// Signed API calls from hosts and applications: no session, no CSRF.
	s.apiRoutes(r)
	// Universal Prompt endpoints: clients authenticate by signed assertion,
	// so they sit outside the browser pages' CSRF group.
	s.oauthRoutes(r)

	// The logo admins upload in the settings, shown on every page.
	r.GET("/org/logo", s.OrgLogoGET)
	// The admin section (package web/admin): its own session and CSRF token.
	s.admin.Register(r)

	// Browser pages: a session and CSRF protection on every form.
	pages := r.Group("/", s.withSession, s.csrf)
	s.enrollRoutes(pages)
	s.activationRoutes(pages)
	s.promptRoutes(pages)
	s.deviceRoutes(pages)
	return r
}
