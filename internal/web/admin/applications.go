package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminApplications      = render.Declare("admin_applications")
	viewAdminApplication       = render.Declare("admin_application")
	viewAdminApplicationForm   = render.Declare("admin_application_form")
	viewAdminApplicationRotate = render.Declare("admin_application_rotate")
	viewAdminApplicationDelete = render.Declare("admin_application_delete")
)

// adminValNewSecret carries a secret just created or rotated from the POST
// to the page that shows it once ("KEY SECRET"), inside the encrypted admin
// session cookie; that page removes it.
const adminValNewSecret = "app_secret"

// adminApplicationRoutes registers the applications pages. Every role
// sees them; Owners, Administrators and Application Managers change
// applications; only Owners and Administrators see or rotate secrets.
func (s *Section) adminApplicationRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/applications", admin.ViewUsers, s.AdminApplicationsGET)
	s.adminHandle(g, http.MethodGet, "/applications/new", admin.ManageApplications, s.AdminApplicationNewGET)
	s.adminHandle(g, http.MethodPost, "/applications/new", admin.ManageApplications, s.AdminApplicationNewPOST)
	s.adminHandle(g, http.MethodGet, "/applications/:key", admin.ViewUsers, s.AdminApplicationGET)
	s.adminHandle(g, http.MethodGet, "/applications/:key/edit", admin.ManageApplications, s.AdminApplicationEditGET)
	s.adminHandle(g, http.MethodPost, "/applications/:key/edit", admin.ManageApplications, s.AdminApplicationEditPOST)
	s.adminHandle(g, http.MethodPost, "/applications/:key/reveal", admin.ApplicationSecrets, s.AdminApplicationRevealPOST)
	s.adminHandle(g, http.MethodGet, "/applications/:key/rotate", admin.ApplicationSecrets, s.AdminApplicationRotateGET)
	s.adminHandle(g, http.MethodPost, "/applications/:key/rotate", admin.ApplicationSecrets, s.AdminApplicationRotatePOST)
	s.adminHandle(g, http.MethodGet, "/applications/:key/delete", admin.ManageApplications, s.AdminApplicationDeleteGET)
	s.adminHandle(g, http.MethodPost, "/applications/:key/delete", admin.ManageApplications, s.AdminApplicationDeletePOST)
}

// kindLabel names an application kind for people.
func kindLabel(kind string) string {
	switch kind {
	case store.AppWeb:
		return "Web (Universal Prompt)"
	case store.AppUnix:
		return "Unix (login_duo, pam_duo)"
	case store.AppAuthAPI:
		return "Auth API"
	case store.AppAdminAPI:
		return "Admin API"
	}
	return kind
}

// grantHint says what an Admin API grant allows.
func grantHint(grant string) string {
	switch grant {
	case store.GrantReadResource:
		return "read users, phones, groups and tokens"
	case store.GrantWriteResource:
		return "create, change and delete them"
	case store.GrantReadLog:
		return "read the authentication and administrator logs"
	case store.GrantSettings:
		return "read the organisation's information"
	}
	return ""
}

// apiHost is the api_host the clients are configured with: the base URL's
// host, with its port.
func (s *Section) apiHost() string {
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// applicationRow is one line of the list, in words: the template reads
// plain fields (a thousand rows stay fast to render, where promoted fields
// of embedded structs cost a reflective search each).
type applicationRow struct {
	Key, Name, Kind, Policy, Groups string
	// RedirectURIs is nil for kinds that have none.
	RedirectURIs      []string
	Web               bool
	Created, LastUsed string
}

// policyLabel says which new user policy an application follows.
func policyLabel(a apps.Summary) string {
	switch {
	case a.Inherits():
		return "Inherited (global policy)"
	case a.PolicyNewUser == "":
		return a.PolicyName + ": inherited"
	}
	return a.PolicyName + ": " + a.PolicyNewUser
}

// groupsLabel lists the permitted groups, or says everyone may use it.
func groupsLabel(a apps.Summary) string {
	if len(a.GroupNames) == 0 {
		return "Everyone"
	}
	return strings.Join(a.GroupNames, ", ")
}

// AdminApplicationsGET lists the applications.
func (s *Section) AdminApplicationsGET(c *gin.Context) {
	list, err := s.apps.Summaries(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	rows := make([]applicationRow, len(list))
	for i, a := range list {
		rows[i] = applicationRow{Key: a.Key, Name: a.Name, Kind: kindLabel(a.Kind), Policy: policyLabel(a), Groups: groupsLabel(a),
			RedirectURIs: a.RedirectURIs, Web: a.Kind == store.AppWeb, Created: formatWhen(a.CreatedAt), LastUsed: "Never"}
		if a.LastUsedAt != nil {
			rows[i].LastUsed = formatWhen(a.LastUsedAt)
		}
	}
	s.Render(c, http.StatusOK, viewAdminApplications, render.Page{Title: "Applications", Data: rows})
}

// adminApplicationForm is the add and the edit form.
type adminApplicationForm struct {
	// App is the application being edited; zero when adding.
	App                   store.Application
	Name                  string
	Kind                  string
	RedirectURIs          string // one a line
	UsernameNormalization string
	// Grants are the Admin API grants ticked (admin-api only).
	Grants         []string
	AllGrants      []string
	Kinds          []string
	Normalizations []string
	Errors         map[string]string
}

func (s *Section) renderApplicationForm(c *gin.Context, status int, f adminApplicationForm) {
	f.Kinds, f.Normalizations, f.AllGrants = apps.Kinds, apps.Normalizations, store.Grants
	title := "Add an application"
	if f.App.Key != "" {
		title = "Edit " + f.App.Name
	}
	s.Render(c, status, viewAdminApplicationForm, render.Page{Title: title, Data: f})
}

// fieldErrors turns the domain's problems by field into sentences.
func fieldErrors(problems map[string]error) map[string]string {
	out := make(map[string]string, len(problems))
	for field, err := range problems {
		out[field] = sentence(err)
	}
	return out
}

// AdminApplicationNewGET shows the add form.
func (s *Section) AdminApplicationNewGET(c *gin.Context) {
	s.renderApplicationForm(c, http.StatusOK, adminApplicationForm{Kind: store.AppWeb})
}

// AdminApplicationNewPOST creates an application and shows its credentials
// on the next page, once.
func (s *Section) AdminApplicationNewPOST(c *gin.Context) {
	f := adminApplicationForm{Name: c.PostForm("name"), Kind: c.PostForm("kind"), RedirectURIs: c.PostForm("redirect_uris"),
		Grants: c.PostFormArray("grants")}
	n, problems := apps.CheckNew(apps.NewApp{Name: f.Name, Kind: f.Kind, RedirectURIs: apps.SplitRedirectURIs(f.RedirectURIs), Grants: f.Grants})
	if len(problems) > 0 {
		f.Errors = fieldErrors(problems)
		s.renderApplicationForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	created, err := s.apps.Create(c.Request.Context(), n, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	adminSession(c).Values[adminValNewSecret] = created.App.Key + " " + created.ClientSecret
	s.adminDone(c, "Application "+created.App.Name+" was created. Copy its secret now: it is shown only on this page.", "/admin/applications/"+created.App.Key)
}

// adminApplicationPage shows one application with its credentials; the
// secret only right after it was created, rotated or revealed.
type adminApplicationPage struct {
	App     apps.Summary
	Kind    string
	APIHost string
	// Policy and Groups say which new user policy it follows and who may
	// use it.
	Policy, Groups string
	// Secret is set only on the page that shows it.
	Secret      string
	Credentials []apps.Credential
	// UnixConfig is the login_duo.conf / pam_duo.conf of a unix app whose
	// secret is shown.
	UnixConfig string
	// RevealError is the refusal of a step-up code.
	RevealError string
	// PoliciesPage is where the application's policy, permitted groups and
	// group overrides are changed (its access page).
	PoliciesPage string
}

// applicationPage loads what the application page shows, or answers 404.
func (s *Section) applicationPage(c *gin.Context, key string) (adminApplicationPage, bool) {
	a, err := s.apps.SummaryByKey(c.Request.Context(), key)
	if errors.Is(err, apps.ErrNotFound) {
		s.applicationGone(c)
		return adminApplicationPage{}, false
	}
	if err != nil {
		s.ServerError(c, err)
		return adminApplicationPage{}, false
	}
	return adminApplicationPage{App: a, Kind: kindLabel(a.Kind), APIHost: s.apiHost(), Policy: policyLabel(a), Groups: groupsLabel(a),
		PoliciesPage: "/admin/applications/" + a.Key + "/access"}, true
}

func (s *Section) applicationGone(c *gin.Context) {
	s.ShowError(c, http.StatusNotFound, "No such application",
		"This application does not exist. It may have been deleted.", "Go back to the list of applications.")
}

// renderApplication shows the page, with the secret when given; a page
// with a secret is never cached.
func (s *Section) renderApplication(c *gin.Context, status int, p adminApplicationPage, secret string) {
	if secret != "" {
		c.Header("Cache-Control", "no-store")
		p.Secret = secret
		if p.App.Kind == store.AppUnix {
			p.UnixConfig = apps.DuoUnixConfig(p.App.Application, secret, p.APIHost)
		}
	}
	p.Credentials = apps.Credentials(p.App.Application, secret, p.APIHost)
	s.Render(c, status, viewAdminApplication, render.Page{Title: p.App.Name, Data: p})
}

// AdminApplicationGET shows an application: its credentials, and its
// secret once after it was created or rotated.
func (s *Section) AdminApplicationGET(c *gin.Context) {
	p, ok := s.applicationPage(c, c.Param("key"))
	if !ok {
		return
	}
	secret := ""
	if v := adminSessionString(c, adminValNewSecret); v != "" {
		key, sec, _ := strings.Cut(v, " ")
		if key == p.App.Key {
			secret = sec
			delete(adminSession(c).Values, adminValNewSecret)
		}
	}
	s.renderApplication(c, http.StatusOK, p, secret)
}

// AdminApplicationRevealPOST shows the secret again to an admin who typed a
// current code from their own authenticator app.
func (s *Section) AdminApplicationRevealPOST(c *gin.Context) {
	p, ok := s.applicationPage(c, c.Param("key"))
	if !ok {
		return
	}
	shown, err := s.apps.Reveal(c.Request.Context(), p.App.Key, *currentAdmin(c), c.PostForm("code"), c.ClientIP())
	switch {
	case errors.Is(err, admin.ErrBadCode) || errors.Is(err, admin.ErrBadCredentials) || errors.Is(err, admin.ErrNoTOTP):
		p.RevealError = "The secret was not shown: that code is not right, or came too soon after a wrong one. Enter the newest code your authenticator app shows for this portal (a used code does not work twice)."
		s.renderApplication(c, http.StatusUnprocessableEntity, p, "")
	case errors.Is(err, apps.ErrNotFound):
		s.applicationGone(c)
	case err != nil:
		s.ServerError(c, err)
	default:
		s.renderApplication(c, http.StatusOK, p, shown.ClientSecret)
	}
}

// applicationOf loads the application of the route's key, or answers 404
// (or 500) and reports false.
func (s *Section) applicationOf(c *gin.Context) (store.Application, bool) {
	a, err := s.apps.ByKey(c.Request.Context(), c.Param("key"))
	if errors.Is(err, apps.ErrNotFound) {
		s.applicationGone(c)
		return a, false
	}
	if err != nil {
		s.ServerError(c, err)
		return a, false
	}
	return a, true
}

// AdminApplicationEditGET shows the edit form.
func (s *Section) AdminApplicationEditGET(c *gin.Context) {
	a, ok := s.applicationOf(c)
	if !ok {
		return
	}
	s.renderApplicationForm(c, http.StatusOK, adminApplicationForm{App: a, Name: a.Name, Kind: a.Kind,
		RedirectURIs: strings.Join(a.RedirectURIs, "\n"), UsernameNormalization: a.UsernameNormalization})
}

// AdminApplicationEditPOST saves the name, redirect URIs and username
// normalization.
func (s *Section) AdminApplicationEditPOST(c *gin.Context) {
	f := adminApplicationForm{Name: c.PostForm("name"), RedirectURIs: c.PostForm("redirect_uris"),
		UsernameNormalization: c.PostForm("username_normalization")}
	a, err := s.apps.Update(c.Request.Context(), c.Param("key"), apps.Edit{Name: f.Name,
		RedirectURIs: apps.SplitRedirectURIs(f.RedirectURIs), UsernameNormalization: f.UsernameNormalization}, adminWho(c))
	var invalid *apps.InvalidEditError
	switch {
	case errors.As(err, &invalid):
		f.App, f.Kind, f.Errors = a, a.Kind, fieldErrors(invalid.Problems)
		s.renderApplicationForm(c, http.StatusUnprocessableEntity, f)
	case errors.Is(err, apps.ErrNotFound):
		s.applicationGone(c)
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, "Application "+a.Name+" was saved.", "/admin/applications/"+a.Key)
	}
}

// adminApplicationConfirm is the rotate and the delete confirmation.
type adminApplicationConfirm struct {
	App   store.Application
	Kind  string
	Typed string
	Error string
}

func (s *Section) renderConfirm(c *gin.Context, status int, view string, f adminApplicationConfirm) {
	if f.App.Key == "" {
		a, ok := s.applicationOf(c)
		if !ok {
			return
		}
		f.App = a
	}
	f.Kind = kindLabel(f.App.Kind)
	s.Render(c, status, view, render.Page{Title: f.App.Name, Data: f})
}

// AdminApplicationRotateGET asks to confirm the rotation.
func (s *Section) AdminApplicationRotateGET(c *gin.Context) {
	s.renderConfirm(c, http.StatusOK, viewAdminApplicationRotate, adminApplicationConfirm{})
}

// AdminApplicationRotatePOST gives the application a new secret, shown once
// on the next page; the old one stops working at once.
func (s *Section) AdminApplicationRotatePOST(c *gin.Context) {
	r, err := s.apps.Rotate(c.Request.Context(), c.Param("key"), adminWho(c))
	if errors.Is(err, apps.ErrNotFound) {
		s.applicationGone(c)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	adminSession(c).Values[adminValNewSecret] = r.App.Key + " " + r.ClientSecret
	s.adminDone(c, "The secret of "+r.App.Name+" was replaced; the old one no longer works. Copy the new one now: it is shown only on this page.", "/admin/applications/"+r.App.Key)
}

// AdminApplicationDeleteGET asks for the application's name to confirm.
func (s *Section) AdminApplicationDeleteGET(c *gin.Context) {
	s.renderConfirm(c, http.StatusOK, viewAdminApplicationDelete, adminApplicationConfirm{})
}

// AdminApplicationDeletePOST deletes the application when its name was
// typed.
func (s *Section) AdminApplicationDeletePOST(c *gin.Context) {
	typed := c.PostForm("confirm_name")
	gone, err := s.apps.DeleteNamed(c.Request.Context(), c.Param("key"), typed, adminWho(c))
	switch {
	case errors.Is(err, apps.ErrNameMismatch):
		s.renderConfirm(c, http.StatusUnprocessableEntity, viewAdminApplicationDelete,
			adminApplicationConfirm{Typed: typed, Error: sentence(err)})
	case errors.Is(err, apps.ErrNotFound):
		s.applicationGone(c)
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, "Application "+gone.Name+" was deleted, with its codes and login transactions.", "/admin/applications")
	}
}
