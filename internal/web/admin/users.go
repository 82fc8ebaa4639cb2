package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/web/render"
)

var (
	viewAdminUsers      = render.Declare("admin_users")
	viewAdminUser       = render.Declare("admin_user")
	viewAdminUserForm   = render.Declare("admin_user_form")
	viewAdminUserDelete = render.Declare("admin_user_delete")
)

// usersPageSize is how many users one page of the list shows.
const usersPageSize = 50

// adminUsersList is the users page: a search and one page of results.
type adminUsersList struct {
	Query string
	Users []store.UserRow
	// Next is the username to continue after, when there are more.
	Next  string
	After string
}

// AdminUsersGET lists users in username order, filtered by the start of a
// username, email or real name; pages continue after the last username shown.
func (s *Section) AdminUsersGET(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	after := c.Query("after")
	ctx := c.Request.Context()
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	rows, err := s.store.SearchUsers(ctx, store.UserQuery{Prefix: q, After: after, Limit: usersPageSize + 1, Methods: methods})
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := adminUsersList{Query: q, After: after}
	if len(rows) > usersPageSize {
		rows = rows[:usersPageSize]
		page.Next = rows[len(rows)-1].Username
	}
	page.Users = rows
	s.Render(c, http.StatusOK, viewAdminUsers, render.Page{Title: "Users", Data: page})
}

// userByKeyParam loads the user of the :key parameter, or shows "not found".
func (s *Section) userByKeyParam(c *gin.Context) (store.User, bool) {
	u, err := s.store.UserByKey(c.Request.Context(), c.Param("key"))
	if errors.Is(err, store.ErrNotFound) {
		s.ShowError(c, http.StatusNotFound, "No such user",
			"There is no user at this address. They may have been deleted.", "Go back to the list of users and search again.")
		return u, false
	}
	if err != nil {
		s.ServerError(c, err)
		return u, false
	}
	return u, true
}

// adminUserDetail is everything the user page shows.
type adminUserDetail struct {
	User           store.User
	Enrolled       bool
	Groups         []store.Group
	Phones         []store.Phone
	SecurityKeys   []store.SecurityKey
	HardwareTokens []store.HardwareToken
	Pending        *store.EnrollmentLink
	Audit          []store.AuditEntry
	// SendError explains why the enrollment email cannot be sent.
	SendError string
	// Bypass summarises the live bypass codes; BypassError explains a
	// refused request for new ones. BypassValidity is the menu of how
	// long new ones work.
	Bypass         factors.BypassSummary
	BypassError    string
	BypassValidity any
}

func (s *Section) userDetail(ctx context.Context, u store.User) (adminUserDetail, error) {
	d := adminUserDetail{User: u}
	var err error
	if d.Groups, err = s.store.GroupsOfUser(ctx, u.ID); err != nil {
		return d, err
	}
	f, err := s.enroll.FactorsOf(ctx, u.ID)
	if err != nil {
		return d, err
	}
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		return d, err
	}
	d.Phones, d.SecurityKeys, d.HardwareTokens, d.Enrolled = f.Phones, f.SecurityKeys, f.HardwareTokens, f.EnrolledUnder(methods)
	l, err := s.store.PendingLinkOfUser(ctx, u.ID, s.clock.Now())
	switch {
	case err == nil:
		d.Pending = &l
	case !errors.Is(err, store.ErrNotFound):
		return d, err
	}
	if d.Bypass, err = s.factors.BypassCodesOf(ctx, u.ID); err != nil {
		return d, err
	}
	d.BypassValidity = bypassValidity
	d.Audit, err = s.store.AuditForTarget(ctx, audit.TargetUser, u.Username, 50)
	return d, err
}

// AdminUserGET shows one user: status, groups, devices, pending enrollment
// and what happened to them.
func (s *Section) AdminUserGET(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	d, err := s.userDetail(c.Request.Context(), u)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminUser, render.Page{Title: u.Username, Data: d})
}

// adminUserForm is the add and edit form.
type adminUserForm struct {
	New      bool
	Key      string
	Username string
	RealName string
	Email    string
	Notes    string
	Status   string
	// Statuses are the choices; locked_out only for a user locked out now.
	Statuses []string
	Groups   []groupChoice
	Errors   map[string]string
}

type groupChoice struct {
	Key     string
	Name    string
	Checked bool
}

// readUserForm trims the posted fields; Errors holds one sentence per field
// that is wrong (users.Form.Check decides what is).
func (s *Section) readUserForm(c *gin.Context, f *adminUserForm, current string) {
	f.RealName = strings.TrimSpace(c.PostForm("realname"))
	f.Email = strings.TrimSpace(c.PostForm("email"))
	f.Notes = strings.TrimSpace(strings.ReplaceAll(c.PostForm("notes"), "\r\n", "\n"))
	f.Status = c.PostForm("status")
	if f.New {
		f.Username = users.Normalize(c.PostForm("username"))
	}
	f.Errors = map[string]string{}
	for field, err := range f.domain().Check(f.New, current) {
		f.Errors[field] = sentence(err)
	}
	checked := map[string]bool{}
	for _, k := range c.PostFormArray("groups") {
		checked[k] = true
	}
	known := map[string]bool{}
	for i := range f.Groups {
		f.Groups[i].Checked = checked[f.Groups[i].Key]
		known[f.Groups[i].Key] = true
	}
	for k := range checked {
		if !known[k] {
			f.Errors["groups"] = groupGone
		}
	}
}

// groupGone is what the form says when a chosen group was deleted meanwhile.
const groupGone = "One of the chosen groups no longer exists. Check the groups again."

// domain is the form as the users service takes it.
func (f *adminUserForm) domain() users.Form {
	d := users.Form{Username: f.Username, RealName: f.RealName, Email: f.Email, Notes: f.Notes, Status: f.Status}
	for _, g := range f.Groups {
		if g.Checked {
			d.Groups = append(d.Groups, g.Key)
		}
	}
	return d
}

func (s *Section) groupChoices(ctx context.Context, member []store.Group) ([]groupChoice, error) {
	all, err := s.store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	in := map[int64]bool{}
	for _, g := range member {
		in[g.ID] = true
	}
	out := make([]groupChoice, 0, len(all))
	for _, g := range all {
		out = append(out, groupChoice{Key: g.Key, Name: g.Name, Checked: in[g.ID]})
	}
	return out, nil
}

func (f *adminUserForm) setStatuses(current string) {
	f.Statuses = []string{store.StatusActive, store.StatusBypass, store.StatusDisabled}
	if current == store.StatusLockedOut {
		f.Statuses = append(f.Statuses, store.StatusLockedOut)
	}
}

func (s *Section) renderUserForm(c *gin.Context, status int, f adminUserForm) {
	title := "Add a user"
	if !f.New {
		title = "Edit " + f.Username
	}
	s.Render(c, status, viewAdminUserForm, render.Page{Title: title, Data: f})
}

// AdminUserNewGET shows the empty add-user form.
func (s *Section) AdminUserNewGET(c *gin.Context) {
	f := adminUserForm{New: true, Status: store.StatusActive}
	f.setStatuses("")
	var err error
	if f.Groups, err = s.groupChoices(c.Request.Context(), nil); err != nil {
		s.ServerError(c, err)
		return
	}
	s.renderUserForm(c, http.StatusOK, f)
}

// AdminUserNewPOST creates a user with their groups, in one transaction.
func (s *Section) AdminUserNewPOST(c *gin.Context) {
	ctx := c.Request.Context()
	f := adminUserForm{New: true}
	f.setStatuses("")
	var err error
	if f.Groups, err = s.groupChoices(ctx, nil); err != nil {
		s.ServerError(c, err)
		return
	}
	s.readUserForm(c, &f, "")
	if len(f.Errors) > 0 {
		s.renderUserForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	u, err := s.users.Add(ctx, f.domain(), adminWho(c))
	switch {
	case errors.Is(err, users.ErrUsernameTaken):
		f.Errors["username"] = "A user with that username already exists. Choose another username, or search for the existing user."
	case errors.Is(err, store.ErrNotFound):
		f.Errors["groups"] = groupGone
	case errors.Is(err, users.ErrInvalidUsername), errors.Is(err, users.ErrInvalidEmail), errors.Is(err, users.ErrTooLong):
		f.Errors["username"] = sentence(err)
	case err != nil:
		s.ServerError(c, err)
		return
	}
	if len(f.Errors) > 0 {
		s.renderUserForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	s.adminDone(c, "User "+u.Username+" was added.", "/admin/users/"+u.Key)
}

// AdminUserEditGET shows the edit form of a user.
func (s *Section) AdminUserEditGET(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	f, ok := s.userEditForm(c, u)
	if !ok {
		return
	}
	f.RealName, f.Email, f.Notes, f.Status = u.RealName, u.Email, u.Notes, u.Status
	s.renderUserForm(c, http.StatusOK, f)
}

// userEditForm is the edit form of u before any field is filled in: the
// statuses an admin may choose and the groups, with u's ticked.
func (s *Section) userEditForm(c *gin.Context, u store.User) (adminUserForm, bool) {
	ctx := c.Request.Context()
	member, err := s.store.GroupsOfUser(ctx, u.ID)
	if err != nil {
		s.ServerError(c, err)
		return adminUserForm{}, false
	}
	f := adminUserForm{Key: u.Key, Username: u.Username}
	f.setStatuses(u.Status)
	if f.Groups, err = s.groupChoices(ctx, member); err != nil {
		s.ServerError(c, err)
		return adminUserForm{}, false
	}
	return f, true
}

// AdminUserEditPOST saves a user's details, status and groups in one
// transaction.
func (s *Section) AdminUserEditPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	f, ok := s.userEditForm(c, u)
	if !ok {
		return
	}
	s.readUserForm(c, &f, u.Status)
	if len(f.Errors) > 0 {
		s.renderUserForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	err := s.users.Edit(c.Request.Context(), u, f.domain(), adminWho(c))
	if errors.Is(err, store.ErrNotFound) {
		f.Errors["groups"] = groupGone
		s.renderUserForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Your changes to "+u.Username+" were saved.", "/admin/users/"+u.Key)
}

// AdminUserDeleteGET asks for confirmation before deleting a user.
func (s *Section) AdminUserDeleteGET(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	s.Render(c, http.StatusOK, viewAdminUserDelete, render.Page{Title: "Delete " + u.Username, Data: u})
}

// AdminUserDeletePOST deletes a user with their devices, links and
// memberships.
func (s *Section) AdminUserDeletePOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	if err := s.users.Delete(c.Request.Context(), u, adminWho(c)); err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "User "+u.Username+" was deleted.", "/admin/users")
}

// AdminUserUnlockPOST lets a locked-out user sign in again.
func (s *Section) AdminUserUnlockPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	err := s.users.Unlock(c.Request.Context(), u, adminWho(c))
	if errors.Is(err, users.ErrNotLockedOut) {
		s.adminDone(c, u.Username+" is not locked out; nothing was changed.", "/admin/users/"+u.Key)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, u.Username+" is unlocked and can sign in again.", "/admin/users/"+u.Key)
}
