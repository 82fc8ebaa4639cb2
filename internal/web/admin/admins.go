package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/text"
	"enrollportal/internal/web/render"
)

var viewAdminAdmins = render.Declare("admin_admins")

// adminAdminsPage lists admins and holds the add form.
type adminAdminsPage struct {
	Admins []store.Admin
	SelfID int64
	Roles  []string
	// The add form.
	Email  string
	Name   string
	Role   string
	Errors map[string]string
	// Problem is a refusal of a role change or deletion.
	Problem string
}

func (s *Section) renderAdmins(c *gin.Context, status int, page adminAdminsPage) {
	list, err := s.store.Admins(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page.Admins, page.SelfID, page.Roles = list, currentAdmin(c).ID, admin.Roles
	if page.Role == "" {
		page.Role = admin.RoleReadOnly
	}
	s.Render(c, status, viewAdminAdmins, render.Page{Title: "Admins", Data: page})
}

// AdminAdminsGET lists the admins (owners only).
func (s *Section) AdminAdminsGET(c *gin.Context) {
	s.renderAdmins(c, http.StatusOK, adminAdminsPage{})
}

// AdminAdminsPOST adds an admin with a first password, which they use to
// sign in and set up their authenticator app.
func (s *Section) AdminAdminsPOST(c *gin.Context) {
	page := adminAdminsPage{
		Email: strings.TrimSpace(c.PostForm("email")), Name: strings.TrimSpace(c.PostForm("name")),
		Role: c.PostForm("role"), Errors: map[string]string{},
	}
	_, err := s.admins.Create(c.Request.Context(), admin.NewAdmin{Email: page.Email, Name: page.Name, Role: page.Role, Password: c.PostForm("password")}, adminWho(c))
	switch {
	case err == nil:
		s.adminDone(c, "Admin "+admin.NormalizeEmail(page.Email)+" was added. Give them their password in person or by phone; they set up their authenticator app when they first sign in.", "/admin/admins")
		return
	case errors.Is(err, admin.ErrInvalidEmail), errors.Is(err, admin.ErrEmailTaken):
		page.Errors["email"] = sentence(err)
	case errors.Is(err, admin.ErrNameTooLong), errors.Is(err, text.ErrInvalid):
		page.Errors["name"] = sentence(err)
	case errors.Is(err, admin.ErrInvalidRole):
		page.Errors["role"] = "Choose one of the roles."
	case errors.Is(err, admin.ErrPasswordTooShort), errors.Is(err, admin.ErrPasswordTooLong):
		page.Errors["password"] = sentence(err)
	default:
		s.ServerError(c, err)
		return
	}
	s.renderAdmins(c, http.StatusUnprocessableEntity, page)
}

// adminChangeRefused shows why a role change or deletion was refused.
func (s *Section) adminChangeRefused(c *gin.Context, err error) bool {
	switch {
	case errors.Is(err, admin.ErrLastOwner), errors.Is(err, admin.ErrSelf), errors.Is(err, admin.ErrInvalidRole):
		s.renderAdmins(c, http.StatusUnprocessableEntity, adminAdminsPage{Problem: "Nothing was changed: " + err.Error() + "."})
		return true
	case errors.Is(err, admin.ErrAdminNotFound):
		s.adminDone(c, "That admin no longer exists.", "/admin/admins")
		return true
	}
	return false
}

// AdminAdminRolePOST changes another admin's role.
func (s *Section) AdminAdminRolePOST(c *gin.Context) {
	err := s.admins.ChangeRole(c.Request.Context(), *currentAdmin(c), c.Param("key"), c.PostForm("role"), c.ClientIP())
	if s.adminChangeRefused(c, err) {
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "The role was changed to "+admin.RoleLabel(c.PostForm("role"))+".", "/admin/admins")
}

// AdminAdminDeletePOST deletes another admin.
func (s *Section) AdminAdminDeletePOST(c *gin.Context) {
	s.changeAdmin(c, s.admins.Delete, "The admin was deleted.")
}

// AdminAdminLockPOST keeps another admin out of the admin section, ending
// their open sessions at once.
func (s *Section) AdminAdminLockPOST(c *gin.Context) {
	s.changeAdmin(c, s.admins.Lock, "The admin was locked out and signed out everywhere. Unlock them to let them sign in again.")
}

// AdminAdminUnlockPOST lets a locked admin sign in again.
func (s *Section) AdminAdminUnlockPOST(c *gin.Context) {
	s.changeAdmin(c, s.admins.Unlock, "The admin was unlocked and can sign in again.")
}

// changeAdmin makes one change (a domain method) to the admin named in the
// path, by the signed-in admin, and says what it did.
func (s *Section) changeAdmin(c *gin.Context, change func(ctx context.Context, actor store.Admin, key, ip string) error, done string) {
	err := change(c.Request.Context(), *currentAdmin(c), c.Param("key"), c.ClientIP())
	if s.adminChangeRefused(c, err) {
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, done, "/admin/admins")
}
