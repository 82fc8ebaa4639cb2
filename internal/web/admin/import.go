package admin

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/importer"
	"enrollportal/internal/web/render"
)

var (
	viewAdminImport        = render.Declare("admin_import")
	viewAdminImportPreview = render.Declare("admin_import_preview")
)

// Admin session values of an import between its preview and its apply.
const (
	adminValImportID   = "import_id"
	adminValImportMode = "import_mode"
	adminValImportName = "import_name"
)

type importPage struct {
	Error    string
	Mode     importer.Mode
	FileName string
	Summary  importer.Summary
	// Problem is set when applying failed on a line the database refused.
	Problem string
}

// AdminImportGET shows the upload form.
func (s *Section) AdminImportGET(c *gin.Context) {
	s.Render(c, http.StatusOK, viewAdminImport, render.Page{Title: "Import users", Data: importPage{Mode: importer.ModeUpsert}})
}

// AdminImportPreviewPOST checks every line of the uploaded file, changing
// nothing. The page lists the errors by line, or offers to apply; the file
// itself is not kept, only the plan of its changes (see importer.Check).
func (s *Section) AdminImportPreviewPOST(c *gin.Context) {
	mode := importer.Mode(c.PostForm("mode"))
	if !importer.ValidMode(mode) {
		mode = importer.ModeUpsert
	}
	fh, err := c.FormFile("file")
	if err != nil {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminImport, render.Page{Title: "Import users", Data: importPage{
			Error: "Choose a CSV file to import.", Mode: mode,
		}})
		return
	}
	src, err := fh.Open()
	if err != nil {
		s.ServerError(c, err)
		return
	}
	defer src.Close()
	id, sum, err := s.importer.CheckPlan(c.Request.Context(), src, mode)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	name := filepath.Base(fh.Filename)
	status := http.StatusOK
	if sum.ErrorCount > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		s.importer.DropPlan(adminSessionString(c, adminValImportID))
		sess := adminSession(c)
		sess.Values[adminValImportID], sess.Values[adminValImportMode], sess.Values[adminValImportName] = id, string(mode), name
	}
	s.Render(c, status, viewAdminImportPreview, render.Page{Title: "Check the import", Data: importPage{Mode: mode, FileName: name, Summary: sum}})
}

// AdminImportApplyPOST applies the previewed file in one transaction.
func (s *Section) AdminImportApplyPOST(c *gin.Context) {
	mode := importer.Mode(adminSessionString(c, adminValImportMode))
	name := adminSessionString(c, adminValImportName)
	sum, err := s.importer.ApplyPlanID(c.Request.Context(), adminSessionString(c, adminValImportID), adminWho(c))
	if errors.Is(err, importer.ErrPlanGone) {
		s.ShowError(c, http.StatusGone, "This import is no longer waiting",
			"The checked file was already applied, or it waited more than an hour.",
			"Upload the file again at "+s.baseURL+"/admin/import.")
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	sess := adminSession(c)
	delete(sess.Values, adminValImportID)
	delete(sess.Values, adminValImportMode)
	delete(sess.Values, adminValImportName)
	var msg string
	if mode == importer.ModeDelete {
		msg = fmt.Sprintf("Imported %s: %d %s deleted.", name, sum.Delete, plural(sum.Delete, "user", "users"))
	} else {
		msg = fmt.Sprintf("Imported %s: %d %s created, %d updated, %d new %s, %d new %s. No messages were sent.",
			name, sum.Create, plural(sum.Create, "user", "users"), sum.Update, sum.NewPhones, plural(sum.NewPhones, "phone", "phones"),
			len(sum.NewGroups), plural(len(sum.NewGroups), "group", "groups"))
	}
	if n := len(sum.Skipped); n > 0 {
		// The database changed since the check (another admin at work).
		msg += fmt.Sprintf(" %d %s skipped because the user changed since the check: line %d (%s)",
			n, plural(n, "line was", "lines were"), sum.Skipped[0].Line, sum.Skipped[0].Reason)
		if n > 1 {
			msg += fmt.Sprintf(" and %d more", n-1)
		}
		msg += "."
	}
	s.adminDone(c, msg, "/admin/import")
}
