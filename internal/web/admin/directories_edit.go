package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/directory"
	"enrollportal/internal/web/render"
)

var viewAdminDirectoryEdit = render.Declare("admin_directory_edit")

// adminDirectoryEditPage is the edit form of a directory, with its delete
// form.
type adminDirectoryEditPage struct {
	Form            adminDirectoryForm
	Notice, Problem string
	// DeleteError is the delete form's error.
	DeleteError string
}

func (s *Section) renderDirectoryEdit(c *gin.Context, status int, p adminDirectoryEditPage) {
	p.Form.Name, p.Form.Edit = c.Param("name"), true
	p.Form = p.Form.withFields()
	s.Render(c, status, viewAdminDirectoryEdit, render.Page{Title: "Edit " + p.Form.Name, Data: p})
}

// AdminDirectoryEditGET shows a directory's settings in the edit form;
// the bind password is never shown.
func (s *Section) AdminDirectoryEditGET(c *gin.Context) {
	d, ok := s.directoryDetail(c)
	if !ok {
		return
	}
	s.renderDirectoryEdit(c, http.StatusOK, adminDirectoryEditPage{Form: directoryFormOf(d.Name, d.Settings)})
}

// AdminDirectoryEditPOST saves the settings (action save), fills in the
// kind's preset mapping (preset), or reads the directory's groups for the
// picker (groups); the last two save nothing.
func (s *Section) AdminDirectoryEditPOST(c *gin.Context) {
	ctx, name := c.Request.Context(), c.Param("name")
	f, set, err := readDirectoryForm(c)
	p := adminDirectoryEditPage{Form: f}
	switch c.PostForm("action") {
	case "preset":
		kind := f.Kind
		if kind != directory.KindActiveDirectory {
			kind = directory.KindOpenLDAP
		}
		p.Form.setMapping(directory.Preset(kind))
		p.Notice = "The attribute mapping of the " + kind + " preset is filled in. Nothing is saved until you save the changes."
		s.renderDirectoryEdit(c, http.StatusOK, p)
		return
	case "groups":
		if err == nil {
			if p.Form, p.Notice, err = s.readGroupPicker(c, name, f, set); err == nil {
				p.Notice += " Nothing is saved until you save the changes."
				s.renderDirectoryEdit(c, http.StatusOK, p)
				return
			}
		}
	default:
		if err == nil {
			_, err = s.dirs.Update(ctx, name, set, c.PostForm("password"), adminWho(c))
		}
	}
	if fields, ok := directoryFieldErrors(err); ok {
		p.Form.Errors = fields
		s.renderDirectoryEdit(c, http.StatusUnprocessableEntity, p)
		return
	}
	var ce *directory.ConnectError
	var se *directory.SearchError
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.noSuchDirectory(c)
	case errors.As(err, &ce), errors.As(err, &se):
		p.Form, _ = groupPickerErrors(p.Form, err)
		s.renderDirectoryEdit(c, http.StatusUnprocessableEntity, p)
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, "The settings of "+name+" were saved. The next sync compares every entry.", "/admin/directories/"+name)
	}
}

// readGroupPicker reads the directory's groups (with the typed password,
// or the stored one of directory name when none is typed) into the
// form's picker, with a notice of what was found.
func (s *Section) readGroupPicker(c *gin.Context, name string, f adminDirectoryForm, set directory.Settings) (adminDirectoryForm, string, error) {
	names, err := s.dirs.GroupNames(c.Request.Context(), name, set, c.PostForm("password"))
	if err != nil {
		return f, "", err
	}
	f.Picker = pickerOf(names, set.Groups)
	if len(names) == 0 {
		return f, "The directory has no groups under the groups base. Leave the choice empty to sync every user under the base.", nil
	}
	return f, "These are the directory's groups: choose the ones to sync.", nil
}

// groupPickerErrors puts a failure to reach or search the directory on
// the form's groups field, and returns nil then; other errors it returns.
func groupPickerErrors(f adminDirectoryForm, err error) (adminDirectoryForm, error) {
	var ce *directory.ConnectError
	var se *directory.SearchError
	if errors.As(err, &ce) || errors.As(err, &se) {
		f.Errors = map[string]string{"groups": "The groups could not be read: " + sentence(err)}
		return f, nil
	}
	return f, err
}

// pickerOf lists the directory's groups, chosen ones checked, and the
// chosen ones the directory no longer has, so that none is dropped
// unseen.
func pickerOf(names, chosen []string) []directoryPick {
	want := map[string]bool{}
	for _, g := range chosen {
		want[strings.ToLower(g)] = true
	}
	var out []directoryPick
	for _, n := range names {
		out = append(out, directoryPick{Name: n, Checked: want[strings.ToLower(n)]})
		delete(want, strings.ToLower(n))
	}
	for _, g := range chosen {
		if want[strings.ToLower(g)] {
			out = append(out, directoryPick{Name: g, Checked: true, Missing: true})
		}
	}
	return out
}

// AdminDirectoryDeletePOST deletes a directory once the admin ticked the
// confirmation; its users and groups stay.
func (s *Section) AdminDirectoryDeletePOST(c *gin.Context) {
	name := c.Param("name")
	if c.PostForm("confirm") != "1" {
		d, ok := s.directoryDetail(c)
		if !ok {
			return
		}
		s.renderDirectoryEdit(c, http.StatusUnprocessableEntity, adminDirectoryEditPage{Form: directoryFormOf(d.Name, d.Settings),
			DeleteError: "Tick the box to confirm that you want to delete this directory. Nothing was deleted."})
		return
	}
	err := s.dirs.Delete(c.Request.Context(), name, adminWho(c))
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.noSuchDirectory(c)
	case errors.Is(err, directory.ErrBusy):
		s.renderDirectory(c, http.StatusConflict, adminDirectoryPage{Problem: "A sync of this directory is running; it was not deleted. Try again when the sync has finished."})
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, "Directory "+name+" was deleted. Its users and groups stay, as if made by hand.", "/admin/directories")
	}
}

// AdminDirectoryLinkPOST settles a conflict by adopting the user who has
// the username into the directory.
func (s *Section) AdminDirectoryLinkPOST(c *gin.Context) {
	name, username := c.Param("name"), c.PostForm("username")
	err := s.dirs.Link(c.Request.Context(), name, username, c.PostForm("stable_id"), adminWho(c))
	s.conflictDone(c, err, username+" is now kept by this directory; the next sync brings its details from the directory.")
}

// AdminDirectoryRenamePOST settles a conflict by renaming the user who has
// the username; the next sync creates the directory's user.
func (s *Section) AdminDirectoryRenamePOST(c *gin.Context) {
	name, username, newName := c.Param("name"), c.PostForm("username"), c.PostForm("new_username")
	err := s.dirs.RenameOther(c.Request.Context(), name, username, c.PostForm("stable_id"), newName, adminWho(c))
	s.conflictDone(c, err, "The user "+username+" is now "+strings.ToLower(strings.TrimSpace(newName))+"; the next sync creates the directory's "+username+".")
}

func (s *Section) conflictDone(c *gin.Context, err error, done string) {
	var fe *directory.FieldError
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.noSuchDirectory(c)
	case errors.Is(err, directory.ErrNotAConflict):
		s.renderDirectory(c, http.StatusUnprocessableEntity, adminDirectoryPage{Problem: "That is not an open conflict of this directory (it may have been settled already); nothing was changed."})
	case errors.Is(err, directory.ErrUsernameTaken):
		s.renderDirectory(c, http.StatusUnprocessableEntity, adminDirectoryPage{Problem: "Another user has that username; nothing was changed. Choose another new username."})
	case errors.As(err, &fe):
		s.renderDirectory(c, http.StatusUnprocessableEntity, adminDirectoryPage{Problem: "The new username is not valid: " + sentence(errors.New(fe.Message)) + " Nothing was changed."})
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, done, "/admin/directories/"+c.Param("name"))
	}
}
