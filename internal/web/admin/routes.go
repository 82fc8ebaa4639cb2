package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
)

// Register registers the admin section under /admin. Every route goes
// through adminHandle (which attaches requireAdmin with the route's
// permission) or adminPublic (the sign-in steps).
func (s *Section) Register(r *gin.Engine) {
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

	s.adminHandle(g, http.MethodGet, "/users", admin.ViewUsers, s.AdminUsersGET)
	s.adminHandle(g, http.MethodGet, "/users/new", admin.ManageUsers, s.AdminUserNewGET)
	s.adminHandle(g, http.MethodPost, "/users/new", admin.ManageUsers, s.AdminUserNewPOST)
	s.adminHandle(g, http.MethodGet, "/users/:key", admin.ViewUsers, s.AdminUserGET)
	s.adminHandle(g, http.MethodGet, "/users/:key/edit", admin.ManageUsers, s.AdminUserEditGET)
	s.adminHandle(g, http.MethodPost, "/users/:key/edit", admin.ManageUsers, s.AdminUserEditPOST)
	s.adminHandle(g, http.MethodGet, "/users/:key/delete", admin.ManageUsers, s.AdminUserDeleteGET)
	s.adminHandle(g, http.MethodPost, "/users/:key/delete", admin.ManageUsers, s.AdminUserDeletePOST)
	s.adminHandle(g, http.MethodPost, "/users/:key/unlock", admin.ManageUsers, s.AdminUserUnlockPOST)
	s.adminHandle(g, http.MethodPost, "/users/:key/enrollment-email", admin.SendEnrollment, s.AdminUserEnrollmentEmailPOST)
	s.adminHandle(g, http.MethodPost, "/users/:key/reset", admin.ManageUsers, s.AdminUserResetPOST)
	s.adminHandle(g, http.MethodPost, "/users/:key/bypass-codes", admin.ManageUsers, s.AdminUserBypassCodesPOST)
	s.adminHandle(g, http.MethodPost, "/users/:key/bypass-codes/clear", admin.ManageUsers, s.AdminUserBypassCodesClearPOST)

	s.adminHandle(g, http.MethodGet, "/tokens", admin.ViewUsers, s.AdminTokensGET)
	s.adminHandle(g, http.MethodPost, "/tokens/preview", admin.ManageUsers, s.AdminTokensPreviewPOST)
	s.adminHandle(g, http.MethodPost, "/tokens/import", admin.ManageUsers, s.AdminTokensImportPOST)
	s.adminHandle(g, http.MethodPost, "/tokens/assign", admin.ManageUsers, s.AdminTokensAssignPOST)
	s.adminHandle(g, http.MethodPost, "/tokens/resync", admin.ManageUsers, s.AdminTokensResyncPOST)

	s.adminHandle(g, http.MethodGet, "/enrollments", admin.ViewUsers, s.AdminEnrollmentsGET)
	s.adminHandle(g, http.MethodGet, "/enrollments/:id/delete", admin.ManageUsers, s.AdminEnrollmentDeleteGET)
	s.adminHandle(g, http.MethodPost, "/enrollments/:id/delete", admin.ManageUsers, s.AdminEnrollmentDeletePOST)
	s.adminHandle(g, http.MethodPost, "/enrollments/:id/resend", admin.SendEnrollment, s.AdminEnrollmentResendPOST)
	s.adminHandle(g, http.MethodPost, "/enrollments/resend-all", admin.SendEnrollment, s.AdminEnrollmentsResendAllPOST)

	s.adminHandle(g, http.MethodGet, "/groups", admin.ViewUsers, s.AdminGroupsGET)
	s.adminHandle(g, http.MethodPost, "/groups", admin.ManageUsers, s.AdminGroupsPOST)
	s.adminHandle(g, http.MethodPost, "/groups/:key/delete", admin.ManageUsers, s.AdminGroupDeletePOST)

	s.adminHandle(g, http.MethodGet, "/settings", admin.ManageSettings, s.AdminSettingsGET)
	s.adminHandle(g, http.MethodPost, "/settings", admin.ManageSettings, s.AdminSettingsPOST)

	s.adminHandle(g, http.MethodGet, "/admins", admin.ManageAdmins, s.AdminAdminsGET)
	s.adminHandle(g, http.MethodPost, "/admins", admin.ManageAdmins, s.AdminAdminsPOST)
	s.adminHandle(g, http.MethodPost, "/admins/:key/role", admin.ManageAdmins, s.AdminAdminRolePOST)
	s.adminHandle(g, http.MethodPost, "/admins/:key/delete", admin.ManageAdmins, s.AdminAdminDeletePOST)
	s.adminHandle(g, http.MethodPost, "/admins/:key/lock", admin.ManageAdmins, s.AdminAdminLockPOST)
	s.adminHandle(g, http.MethodPost, "/admins/:key/unlock", admin.ManageAdmins, s.AdminAdminUnlockPOST)

	s.adminHandle(g, http.MethodGet, "/outbox", admin.ViewUsers, s.AdminOutboxGET)
	s.adminHandle(g, http.MethodPost, "/outbox/:id/retry", admin.SendEnrollment, s.AdminOutboxRetryPOST)

	s.adminHandle(g, http.MethodGet, "/audit", admin.ViewUsers, s.AdminAuditGET)
	s.adminHandle(g, http.MethodGet, "/audit.csv", admin.ViewUsers, s.AdminAuditCSVGET)

	s.adminApplicationRoutes(g)
	s.adminBulkRoutes(g)
	s.adminJobRoutes(g)
	s.adminPolicyRoutes(g)
	s.adminProgressRoutes(g)
	s.adminDirectoryRoutes(g)
}
