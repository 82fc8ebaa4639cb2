package admin

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"enrollportal/internal/admin"
	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

// The admin section has a session of its own: another cookie, other keys,
// SameSite=Strict and limited to /admin, so that nothing of the enrollment
// pages (which end users open from email) ever carries admin rights.
const (
	adminCookie     = "portal_admin"
	adminSessionKey = "admin_session"
	adminKey        = "admin"          // the signed-in *store.Admin, set by requireAdmin
	adminSettingKey = "admin_settings" // the admin.Settings of this request

	// Session values.
	adminValID     = "aid"
	adminValStage  = "stage"
	adminValSince  = "since" // when the current stage began (Unix seconds)
	adminValSeen   = "seen"  // last request of a signed-in admin
	adminValTOTP   = "totp_pending"
	adminValNotice = "notice"
	adminValFlash  = "flash"
	adminValGen    = "gen" // the admin's session generation at sign-in

	// Stages of a sign-in.
	stageCode      = "code"       // password done, TOTP code next
	stageSetupCode = "setup_code" // password done, TOTP to be set up
	stageIn        = "in"

	// secondStepTTL is how long a sign-in may wait between the password and
	// the code.
	secondStepTTL = 10 * time.Minute
	// adminBodyLimit caps admin form posts; CSV imports are the largest.
	adminBodyLimit = 16 << 20
)

// newAdminSessionStore makes the admin cookie store: signed and encrypted with
// keys of their own, HttpOnly, SameSite=Strict, Secure over HTTPS.
func newAdminSessionStore(box *secret.Box, secure bool) *sessions.CookieStore {
	return render.NewSessionStore(box, "admin-session", "/admin", admin.MaxSessionAge, http.SameSiteStrictMode, secure)
}

// withAdminSession loads the admin session (a fresh one when the cookie is
// missing or does not verify).
func (s *Section) withAdminSession(c *gin.Context) {
	render.LoadSession(c, s.adminSessions, adminCookie, adminSessionKey)
}

func adminSession(c *gin.Context) *sessions.Session {
	return c.MustGet(adminSessionKey).(*sessions.Session)
}

func adminSessionString(c *gin.Context, key string) string {
	return render.SessionString(adminSession(c), key)
}

func adminSessionInt(c *gin.Context, key string) int64 {
	return render.SessionInt(adminSession(c), key)
}

// clearAdminSession forgets who is signing in, keeping nothing but a fresh
// CSRF token.
func clearAdminSession(c *gin.Context) {
	sess := adminSession(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[render.CSRFSession] = secret.NewToken()
	c.Set(render.CSRFSession, sess.Values[render.CSRFSession])
}

// adminCSRF is the synchronizer-token check of the admin section, bound to the
// admin session: the same rules as csrf, another session.
func (s *Section) adminCSRF(c *gin.Context) {
	s.CheckCSRF(c, adminSession(c), adminBodyLimit)
}

// signedInAdmin returns the admin of a fully signed-in session that has not
// idled out, grown too old or been ended (sign-out anywhere, a role change,
// a lock or deletion: admin.Service.Session), reloaded from the database on
// every request so that such a change takes effect at once.
func (s *Section) signedInAdmin(c *gin.Context) (store.Admin, bool) {
	if adminSessionString(c, adminValStage) != stageIn {
		return store.Admin{}, false
	}
	now := s.clock.Now().Unix()
	since, seen := adminSessionInt(c, adminValSince), adminSessionInt(c, adminValSeen)
	if now-since >= int64(admin.MaxSessionAge/time.Second) || now-seen >= int64(admin.IdleTimeout/time.Second) || now < since {
		clearAdminSession(c)
		adminSession(c).Values[adminValNotice] = "Your admin session ended. Please sign in again."
		return store.Admin{}, false
	}
	a, err := s.admins.Session(c.Request.Context(), adminSessionInt(c, adminValID), adminSessionInt(c, adminValGen))
	if err != nil {
		if !errors.Is(err, admin.ErrSessionEnded) {
			s.log.Error("load the signed-in admin", "err", err)
		}
		clearAdminSession(c)
		adminSession(c).Values[adminValNotice] = "Your admin session ended. Please sign in again."
		return store.Admin{}, false
	}
	return a, true
}

// requireAdmin lets a request through only for a signed-in admin whose role
// has permission p (admin.Can); others are sent to sign in, or refused with
// 403. It is the server-side enforcement of the role matrix.
func (s *Section) requireAdmin(p admin.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, ok := s.signedInAdmin(c)
		if !ok {
			s.Redirect(c, "/admin/signin")
			return
		}
		settings, err := admin.LoadSettings(c.Request.Context(), s.store)
		if err != nil {
			s.ServerError(c, err)
			return
		}
		c.Set(adminKey, &a)
		c.Set(adminSettingKey, settings)
		adminSession(c).Values[adminValSeen] = s.clock.Now().Unix()
		if !admin.Can(a.Role, p, settings) {
			s.log.Info("admin refused", "route", c.FullPath(), "role", a.Role, "permission", string(p))
			s.ShowError(c, http.StatusForbidden, "You do not have access to this",
				"Your admin role ("+admin.RoleLabel(a.Role)+") does not allow this page or action.",
				"If you need it, ask an owner of the portal to change your role.")
			return
		}
		c.Next()
	}
}

func currentAdmin(c *gin.Context) *store.Admin {
	a, _ := c.MustGet(adminKey).(*store.Admin)
	return a
}

// adminWho is the audit actor of the current admin's request.
func adminWho(c *gin.Context) audit.Who {
	return audit.Admin(currentAdmin(c).Email, c.ClientIP())
}

// FrameOf is the admin navigation of a request the section let through
// (requireAdmin), or nil; the renderer shows it on every admin page.
func FrameOf(c *gin.Context) *render.AdminFrame {
	v, ok := c.Get(adminKey)
	if !ok {
		return nil
	}
	a := v.(*store.Admin)
	settings, _ := c.MustGet(adminSettingKey).(admin.Settings)
	flash := adminSessionString(c, adminValFlash)
	delete(adminSession(c).Values, adminValFlash)
	return &render.AdminFrame{Email: a.Email, Name: a.Name, RoleLabel: admin.RoleLabel(a.Role), Path: c.FullPath(), Flash: flash, Role: a.Role, Settings: settings}
}

// adminDone tells the admin what their action did, on the page redirect
// leads to.
func (s *Section) adminDone(c *gin.Context, flash, path string) {
	adminSession(c).Values[adminValFlash] = flash
	s.Redirect(c, path)
}

// adminRouteDecl is the permission an admin route declared; public marks the
// sign-in pages, which need no signed-in admin.
type adminRouteDecl struct {
	perm   admin.Permission
	public bool
}

// adminRouteDecls holds every admin route's declaration, filled when routes
// are registered (the same for every Server). Tests walk the router and
// refuse an /admin route that is missing here.
var adminRouteDecls sync.Map // "METHOD /admin/path" -> adminRouteDecl

// RoutePermission tells what an admin route (as gin spells it, e.g.
// "/admin/users/:key") requires: public is true for the sign-in pages;
// declared is false for a route registered without adminHandle.
func RoutePermission(method, path string) (perm admin.Permission, public, declared bool) {
	v, ok := adminRouteDecls.Load(method + " " + path)
	if !ok {
		return "", false, false
	}
	d := v.(adminRouteDecl)
	return d.perm, d.public, true
}

// DeclaredRoutes lists every declared admin route, "METHOD path".
func DeclaredRoutes() []string {
	var out []string
	adminRouteDecls.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	sort.Strings(out)
	return out
}

// adminHandle registers an admin route that needs permission p. Every route
// of the admin section goes through here (or adminPublic), so that no route
// exists without a declared permission.
func (s *Section) adminHandle(g *gin.RouterGroup, method, path string, p admin.Permission, h ...gin.HandlerFunc) {
	if p == "" {
		panic("web: admin route " + path + " without a permission")
	}
	full := joinRoute(g.BasePath(), path)
	adminRouteDecls.Store(method+" "+full, adminRouteDecl{perm: p})
	g.Handle(method, path, append([]gin.HandlerFunc{s.requireAdmin(p)}, h...)...)
}

// adminPublic registers a route of the admin section that is reached before
// signing in (sign-in steps, owner setup); its handler checks the stage.
func (s *Section) adminPublic(g *gin.RouterGroup, method, path string, h ...gin.HandlerFunc) {
	full := joinRoute(g.BasePath(), path)
	adminRouteDecls.Store(method+" "+full, adminRouteDecl{public: true})
	g.Handle(method, path, h...)
}

func joinRoute(base, path string) string {
	if path == "" {
		return base
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(path, "/")
}
