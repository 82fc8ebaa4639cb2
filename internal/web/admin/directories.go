package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/directory"
	"enrollportal/internal/web/render"
)

var (
	viewAdminDirectories = render.Declare("admin_directories")
	viewAdminDirectory   = render.Declare("admin_directory")
)

// adminDirectoryRoutes registers the directory pages: every role sees
// them; Owners, Administrators and User Managers add, test, preview, sync
// and restore.
func (s *Section) adminDirectoryRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/directories", admin.ViewUsers, s.AdminDirectoriesGET)
	s.adminHandle(g, http.MethodPost, "/directories", admin.ManageUsers, s.AdminDirectoriesPOST)
	s.adminHandle(g, http.MethodGet, "/directories/:name", admin.ViewUsers, s.AdminDirectoryGET)
	s.adminHandle(g, http.MethodGet, "/directories/:name/progress", admin.ViewUsers, s.AdminDirectoryProgressGET)
	s.adminHandle(g, http.MethodPost, "/directories/:name/test", admin.ManageUsers, s.AdminDirectoryTestPOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/preview", admin.ManageUsers, s.AdminDirectoryPreviewPOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/sync", admin.ManageUsers, s.AdminDirectorySyncPOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/restore", admin.ManageUsers, s.AdminDirectoryRestorePOST)
	s.adminHandle(g, http.MethodGet, "/directories/:name/edit", admin.ManageUsers, s.AdminDirectoryEditGET)
	s.adminHandle(g, http.MethodPost, "/directories/:name/edit", admin.ManageUsers, s.AdminDirectoryEditPOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/delete", admin.ManageUsers, s.AdminDirectoryDeletePOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/link", admin.ManageUsers, s.AdminDirectoryLinkPOST)
	s.adminHandle(g, http.MethodPost, "/directories/:name/rename", admin.ManageUsers, s.AdminDirectoryRenamePOST)
}

// adminDirectoryForm is the add form.
type adminDirectoryForm struct {
	Name, Kind, URL, BindDN, UsersBase, GroupsBase, Filter, Groups, CAPEM, Country string
	// Schedule is the minutes between scheduled syncs, as typed ("" or 0:
	// off).
	Schedule         string
	StartTLS, Emails bool
	Errors           map[string]string
	// The edit form's fields: the attribute mapping, the removal
	// threshold, and the group picker once the groups were read.
	Edit                                                            bool
	UserFilter, GroupFilter, UsernameAttr, RealNameAttr, EmailAttr  string
	PhoneAttrs, StableIDAttr, GroupNameAttr, Membership, MemberAttr string
	RemovalPercent                                                  string
	Picker                                                          []directoryPick
	Attrs                                                           []directoryAttrField
	Removal                                                         directoryAttrField
}

// directoryPick is one group of the picker.
type directoryPick struct {
	Name             string
	Checked, Missing bool
}

// directoryAttrField is one text field of the mapping.
type directoryAttrField struct {
	ID, Label, Value, Error string
}

// withFields lays out the edit form's mapping fields with their values
// and errors.
func (f adminDirectoryForm) withFields() adminDirectoryForm {
	field := func(id, label, value string) directoryAttrField {
		return directoryAttrField{ID: id, Label: label, Value: value, Error: f.Errors[id]}
	}
	f.Attrs = []directoryAttrField{
		field("user_filter", "Which entries are users (LDAP filter)", f.UserFilter),
		field("username_attr", "Username", f.UsernameAttr),
		field("realname_attr", "Real name", f.RealNameAttr),
		field("email_attr", "Email", f.EmailAttr),
		field("phone_attrs", "Phones (attributes separated by commas)", f.PhoneAttrs),
		field("stable_id_attr", "Stable id (stays the same when an entry is renamed)", f.StableIDAttr),
		field("group_filter", "Which entries are groups (LDAP filter)", f.GroupFilter),
		field("group_name_attr", "Group name", f.GroupNameAttr),
		field("member_attr", "Member attribute of group entries (member or uniqueMember)", f.MemberAttr),
	}
	f.Removal = field("removal_percent", "Removal threshold: the share of the synced users, in percent, a sync may disable without confirmation", f.RemovalPercent)
	return f
}

// setMapping fills the form's mapping fields from m.
func (f *adminDirectoryForm) setMapping(m directory.Mapping) {
	f.UserFilter, f.GroupFilter, f.UsernameAttr, f.RealNameAttr, f.EmailAttr = m.UserFilter, m.GroupFilter, m.Username, m.RealName, m.Email
	f.PhoneAttrs, f.StableIDAttr, f.GroupNameAttr, f.Membership, f.MemberAttr = strings.Join(m.Phones, ", "), m.StableID, m.GroupName, m.Membership, m.MemberAttr
}

// directoryFormOf is the edit form of stored settings.
func directoryFormOf(name string, set directory.Settings) adminDirectoryForm {
	f := adminDirectoryForm{Name: name, Kind: set.Kind, URL: set.URL, BindDN: set.BindDN, UsersBase: set.UsersBase, GroupsBase: set.GroupsBase,
		Filter: set.ExtraFilter, Groups: strings.Join(set.Groups, "\n"), CAPEM: set.CAPEM, Country: set.DefaultCountry, StartTLS: set.StartTLS,
		Emails: set.EnrollmentEmails, Edit: true, RemovalPercent: strconv.FormatFloat(set.RemovalShare*100, 'f', -1, 64)}
	if set.ScheduleMinutes > 0 {
		f.Schedule = strconv.Itoa(set.ScheduleMinutes)
	}
	f.setMapping(set.Mapping)
	return f
}

// readDirectoryForm reads the settings fields shared by the add and edit
// forms; a schedule that is not a number is a field error.
func readDirectoryForm(c *gin.Context) (adminDirectoryForm, directory.Settings, error) {
	f := adminDirectoryForm{Name: c.PostForm("name"), Kind: c.PostForm("kind"), URL: c.PostForm("url"), BindDN: c.PostForm("bind_dn"),
		UsersBase: c.PostForm("users_base"), GroupsBase: c.PostForm("groups_base"), Filter: c.PostForm("extra_filter"),
		Groups: c.PostForm("groups"), CAPEM: c.PostForm("ca"), Country: c.PostForm("default_country"), StartTLS: c.PostForm("start_tls") == "1",
		Schedule: strings.TrimSpace(c.PostForm("schedule")), Emails: c.PostForm("enrollment_emails") == "1"}
	var groups []string
	if c.PostForm("picker") == "1" {
		groups = c.PostFormArray("group")
		f.Groups = strings.Join(groups, "\n")
	} else {
		for _, g := range strings.Split(f.Groups, "\n") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	}
	f.UserFilter, f.GroupFilter, f.UsernameAttr, f.RealNameAttr = c.PostForm("user_filter"), c.PostForm("group_filter"), c.PostForm("username_attr"), c.PostForm("realname_attr")
	f.EmailAttr, f.PhoneAttrs, f.StableIDAttr, f.GroupNameAttr = c.PostForm("email_attr"), c.PostForm("phone_attrs"), c.PostForm("stable_id_attr"), c.PostForm("group_name_attr")
	f.Membership, f.MemberAttr, f.RemovalPercent = c.PostForm("membership"), c.PostForm("member_attr"), strings.TrimSpace(c.PostForm("removal_percent"))
	m := directory.Mapping{UserFilter: f.UserFilter, GroupFilter: f.GroupFilter, Username: strings.TrimSpace(f.UsernameAttr), RealName: strings.TrimSpace(f.RealNameAttr),
		Email: strings.TrimSpace(f.EmailAttr), StableID: strings.TrimSpace(f.StableIDAttr), GroupName: strings.TrimSpace(f.GroupNameAttr),
		Membership: f.Membership, MemberAttr: strings.TrimSpace(f.MemberAttr)}
	if strings.TrimSpace(f.PhoneAttrs) != "" {
		for _, a := range strings.Split(f.PhoneAttrs, ",") {
			if a = strings.TrimSpace(a); a != "" {
				m.Phones = append(m.Phones, a)
			}
		}
	}
	set := directory.Settings{Kind: f.Kind, URL: f.URL, StartTLS: f.StartTLS, CAPEM: f.CAPEM, BindDN: f.BindDN, UsersBase: f.UsersBase,
		GroupsBase: f.GroupsBase, ExtraFilter: f.Filter, Groups: groups, DefaultCountry: f.Country, EnrollmentEmails: f.Emails, Mapping: m}
	if f.RemovalPercent != "" {
		pct, err := strconv.ParseFloat(f.RemovalPercent, 64)
		if err != nil || pct <= 0 || pct > 100 {
			return f, set, &directory.FieldError{Field: "removal_percent", Message: "give a percentage above 0 and at most 100, like 10"}
		}
		set.RemovalShare = pct / 100
	}
	if f.Schedule != "" {
		n, err := strconv.Atoi(f.Schedule)
		if err != nil {
			return f, set, &directory.FieldError{Field: "schedule", Message: "write the minutes between syncs as a whole number, or 0 to sync only when asked"}
		}
		set.ScheduleMinutes = n
	}
	return f, set, nil
}

// directoryFieldErrors turns a refused setting into the form's errors;
// false when err is not about a field.
func directoryFieldErrors(err error) (map[string]string, bool) {
	var fe *directory.FieldError
	switch {
	case errors.As(err, &fe):
		field := fe.Field
		if field == "removal_share" {
			field = "removal_percent"
		}
		return map[string]string{field: sentence(errors.New(fe.Message))}, true
	case errors.Is(err, directory.ErrNameTaken):
		return map[string]string{"name": "Another directory has this name. Choose another."}, true
	}
	return nil, false
}

type adminDirectoriesPage struct {
	List []directory.Summary
	Form adminDirectoryForm
	// Notice says how reading the directory's groups went.
	Notice string
}

func (s *Section) renderDirectories(c *gin.Context, status int, f adminDirectoryForm, notice string) {
	list, err := s.dirs.List(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	if f.Kind == "" {
		f.Kind = directory.KindOpenLDAP
	}
	s.Render(c, status, viewAdminDirectories, render.Page{Title: "Directories", Data: adminDirectoriesPage{List: list, Form: f, Notice: notice}})
}

// AdminDirectoriesGET lists the directories, with the add form.
func (s *Section) AdminDirectoriesGET(c *gin.Context) {
	s.renderDirectories(c, http.StatusOK, adminDirectoryForm{}, "")
}

// AdminDirectoriesPOST adds a directory (action add), or reads the
// groups of the directory being added for the picker (action groups),
// which adds nothing.
func (s *Section) AdminDirectoriesPOST(c *gin.Context) {
	f, set, err := readDirectoryForm(c)
	if c.PostForm("action") == "groups" {
		var notice string
		if err == nil {
			if f, notice, err = s.readGroupPicker(c, "", f, set); err == nil {
				// The password is not sent back to the browser.
				notice += " Type the bind password again to add the directory."
				s.renderDirectories(c, http.StatusOK, f, notice)
				return
			}
		}
		if f, err = groupPickerErrors(f, err); err == nil {
			s.renderDirectories(c, http.StatusUnprocessableEntity, f, "")
			return
		}
	} else if err == nil {
		_, err = s.dirs.Add(c.Request.Context(), f.Name, set, c.PostForm("password"), adminWho(c))
	}
	if fields, ok := directoryFieldErrors(err); ok {
		f.Errors = fields
		s.renderDirectories(c, http.StatusUnprocessableEntity, f, "")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Directory "+f.Name+" was added. Test the connection, then preview a sync.", "/admin/directories/"+f.Name)
}

// adminDirectoryPage is one directory with the outcome of the last action.
type adminDirectoryPage struct {
	directory.Detail
	// Notice and Problem say how the action on this page went.
	Notice, Problem string
	// Result is the outcome of a preview.
	Result *directory.Result
	// Preview is set when Result is a dry run.
	Preview bool
	// Latest is the newest run, running or finished; LatestProblem says
	// why it failed or waits.
	Latest        *directory.Run
	LatestProblem string
	LatestLines   []string
	Progress      string
	Runs          []directoryRunRow
	// ShareText is the removal threshold as a percentage.
	ShareText string
}

// directoryRunRow is one line of the history, in words.
type directoryRunRow struct {
	Started, Kind, Status, Counts, Error string
	Duration                             string
}

// progressText says how far a run has got.
func progressText(r directory.Run) string {
	p := r.Figures.Progress
	switch {
	case p.Compared == 0:
		return fmt.Sprintf("Reading the directory: %d %s read so far.", p.Read, plural(p.Read, "entry", "entries"))
	case p.Written < p.ToWrite:
		return fmt.Sprintf("Read %d %s, compared %d; writing: %d of %d %s written.", p.Read, plural(p.Read, "entry", "entries"),
			p.Compared, p.Written, p.ToWrite, plural(p.ToWrite, "user", "users"))
	}
	return fmt.Sprintf("Read %d %s, compared %d, wrote %d %s.", p.Read, plural(p.Read, "entry", "entries"), p.Compared,
		p.Written, plural(p.Written, "user", "users"))
}

// noSuchDirectory answers a request for a directory that does not exist.
func (s *Section) noSuchDirectory(c *gin.Context) {
	s.ShowError(c, http.StatusNotFound, "No such directory", "This directory does not exist.", "Go back to the list of directories.")
}

// directoryDetail loads the directory of the request's address, or
// answers that it does not exist (or the failure) and returns false.
func (s *Section) directoryDetail(c *gin.Context) (directory.Detail, bool) {
	d, err := s.dirs.Detail(c.Request.Context(), c.Param("name"))
	if errors.Is(err, directory.ErrNotFound) {
		s.noSuchDirectory(c)
		return d, false
	}
	if err != nil {
		s.ServerError(c, err)
		return d, false
	}
	return d, true
}

func (s *Section) renderDirectory(c *gin.Context, status int, p adminDirectoryPage) {
	d, ok := s.directoryDetail(c)
	if !ok {
		return
	}
	p.Detail = d
	p.ShareText = fmt.Sprintf("%.0f%%", d.Settings.RemovalShare*100)
	if len(d.Runs) > 0 {
		latest := d.Runs[0]
		p.Latest = &latest
		p.Progress = progressText(latest)
		if latest.Report != "" {
			p.LatestLines = strings.Split(latest.Report, "\n")
		}
		switch latest.Status {
		case "needs-confirmation":
			p.LatestProblem = "The last sync would disable more than the allowed share of the directory's users, so it stopped before changing anything. Check the names below; if they are right, confirm the sync."
		case "failed":
			p.LatestProblem = "The last sync failed: " + sentence(errors.New(strings.TrimPrefix(latest.Error, "directory: ")))
		}
	}
	for _, r := range d.Runs {
		row := directoryRunRow{Started: formatWhen(r.StartedAt), Kind: r.Kind, Status: r.Status, Error: r.Error, Duration: "running"}
		if r.DryRun {
			row.Kind += " (preview)"
		}
		if r.FinishedAt != nil {
			row.Duration = r.FinishedAt.Sub(r.StartedAt).String()
		}
		f := r.Figures
		row.Counts = fmt.Sprintf("read %d, compared %d, written %d; created %d, updated %d, disabled %d, removed %d, phones %d, groups %d, conflicts %d, invalid %d, invited %d",
			f.Read, f.Compared, f.Written, f.Created, f.Updated, f.Disabled, f.Removed, f.Phones, f.Groups, f.Conflicts, f.Invalid, f.Invited)
		p.Runs = append(p.Runs, row)
	}
	s.Render(c, status, viewAdminDirectory, render.Page{Title: d.Name, Data: p})
}

// AdminDirectoryGET shows a directory: settings, runs and trash.
func (s *Section) AdminDirectoryGET(c *gin.Context) {
	s.renderDirectory(c, http.StatusOK, adminDirectoryPage{})
}

// directoryProgress is the JSON the page's script polls while a sync runs.
type directoryProgress struct {
	Status  string `json:"status"`
	Running bool   `json:"running"`
	Text    string `json:"text"`
	Written int    `json:"written"`
	ToWrite int    `json:"to_write"`
}

// AdminDirectoryProgressGET answers how far the newest run has got, for
// the page to show without a reload.
func (s *Section) AdminDirectoryProgressGET(c *gin.Context) {
	r, ok, err := s.dirs.Latest(c.Request.Context(), c.Param("name"))
	switch {
	case errors.Is(err, directory.ErrNotFound):
		c.JSON(http.StatusNotFound, gin.H{"error": "no such directory"})
		return
	case err != nil:
		s.log.Error("directory progress", "directory", c.Param("name"), "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		return
	case !ok:
		c.JSON(http.StatusOK, directoryProgress{Status: "none", Text: "No sync has run yet."})
		return
	}
	c.JSON(http.StatusOK, directoryProgress{Status: r.Status, Running: r.Running(), Text: progressText(r),
		Written: r.Figures.Written, ToWrite: r.Figures.ToWrite})
}

// directoryProblem is the sentence for a failed test or run: the
// directory package's own errors are written for admins; anything else is
// logged and summarised.
func (s *Section) directoryProblem(c *gin.Context, err error) string {
	var ce *directory.ConnectError
	var se *directory.SearchError
	switch {
	case errors.As(err, &ce), errors.As(err, &se):
		return sentence(err)
	case errors.Is(err, directory.ErrNeedsConfirmation):
		return "This sync would disable more than the allowed share of the directory's users, so it stopped before changing anything. Check the names below; if they are right, confirm the sync."
	case errors.Is(err, directory.ErrBusy):
		return "Another sync of this directory is running. Wait for it to finish, then try again."
	}
	s.log.Error("directory sync", "directory", c.Param("name"), "err", err)
	return "The sync failed because of an internal error; nothing more was changed. The server log has the details."
}

// AdminDirectoryTestPOST binds and counts what a sync would see.
func (s *Section) AdminDirectoryTestPOST(c *gin.Context) {
	rep, err := s.dirs.TestConnection(c.Request.Context(), c.Param("name"))
	if errors.Is(err, directory.ErrNotFound) {
		s.renderDirectory(c, http.StatusNotFound, adminDirectoryPage{})
		return
	}
	p := adminDirectoryPage{}
	if err != nil {
		p.Problem = s.directoryProblem(c, err)
		s.renderDirectory(c, http.StatusOK, p)
		return
	}
	p.Notice = fmt.Sprintf("Connected. The directory shows %d %s and %d %s to sync.", rep.Users, plural(rep.Users, "user", "users"), rep.Groups, plural(rep.Groups, "group", "groups"))
	s.renderDirectory(c, http.StatusOK, p)
}

// AdminDirectoryPreviewPOST computes a sync without changing anything.
func (s *Section) AdminDirectoryPreviewPOST(c *gin.Context) {
	res, err := s.dirs.Sync(c.Request.Context(), c.Param("name"), directory.Options{DryRun: true})
	if errors.Is(err, directory.ErrNotFound) {
		s.renderDirectory(c, http.StatusNotFound, adminDirectoryPage{})
		return
	}
	p := adminDirectoryPage{Preview: true}
	if res.Status != "" {
		p.Result = &res
	}
	if err != nil {
		p.Problem = s.directoryProblem(c, err)
	} else {
		p.Notice = "Preview: nothing was changed. This is what a sync would do now."
	}
	s.renderDirectory(c, http.StatusOK, p)
}

// AdminDirectorySyncPOST starts a sync, which goes on in the background
// while the page shows its progress; confirm=1 lets it disable more than
// the threshold.
func (s *Section) AdminDirectorySyncPOST(c *gin.Context) {
	name := c.Param("name")
	_, err := s.dirs.Start(c.Request.Context(), name, directory.Options{Full: c.PostForm("full") == "1", ConfirmRemovals: c.PostForm("confirm") == "1"})
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.renderDirectory(c, http.StatusNotFound, adminDirectoryPage{})
	case err != nil:
		s.renderDirectory(c, http.StatusConflict, adminDirectoryPage{Problem: s.directoryProblem(c, err)})
	default:
		s.adminDone(c, "The sync started; its progress and outcome are below.", "/admin/directories/"+name)
	}
}

// AdminDirectoryRestorePOST takes a user out of the trash.
func (s *Section) AdminDirectoryRestorePOST(c *gin.Context) {
	name, username := c.Param("name"), c.PostForm("username")
	err := s.dirs.Restore(c.Request.Context(), name, username, adminWho(c))
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.renderDirectory(c, http.StatusNotFound, adminDirectoryPage{})
	case errors.Is(err, directory.ErrNotInTrash):
		s.renderDirectory(c, http.StatusUnprocessableEntity, adminDirectoryPage{Problem: username + " is not in this directory's trash; nothing was changed."})
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, username+" was restored and is active again.", "/admin/directories/"+name)
	}
}
