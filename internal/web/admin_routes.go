package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
)

// adminRoutes registers the admin section under /admin. Every route goes
// through adminHandle (which attaches requireAdmin with the route's
// permission) or adminPublic (the sign-in steps). The Admin API lives under
// /admin/v1 and is not part of this group.
func (s *Server) adminRoutes(r *gin.Engine) {
	g := r.Group("/admin", s.withAdminSession, s.adminCSRF)

	// Signing in, step by step, and the owner setup link.
	s.adminPublic(g, http.MethodGet, "/signin", s.AdminSignInGET)
	s.adminPublic(g, http.MethodPost, "/signin", s.AdminSignInPOST)
	s.adminPublic(g, http.MethodGet, "/signin/code", s.AdminSignInCodeGET)
	s.adminPublic(g, http.MethodPost, "/signin/code", s.AdminSignInCodePOST)
	s.adminPublic(g, http.MethodGet, "/signin/setup-code", s.AdminSetupCodeGET)
	s.adminPublic(g, http.MethodPost, "/signin/setup-code", s.AdminSetupCodePOST)
	s.adminPublic(g, http.MethodGet, "/signin/setup-code/qr.png", s.AdminSetupCodeQRGET)
	s.adminPublic(g, http.MethodGet, "/setup/:token", s.AdminSetupGET)
	s.adminPublic(g, http.MethodPost, "/setup/:token", s.AdminSetupPOST)
	s.adminHandle(g, http.MethodPost, "/signout", admin.OwnSession, s.AdminSignOutPOST)

	s.adminHandle(g, http.MethodGet, "", admin.ViewUsers, s.AdminDashboardGET)
	s.adminBulkRoutes(g)
}
