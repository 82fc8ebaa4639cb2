package admin

import (
	"errors"
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
}

// AdminImportGET shows the upload form.
func (s *Section) AdminImportGET(c *gin.Context) {
	s.Render(c, http.StatusOK, viewAdminImport, render.Page{Title: "Import users", Data: importPage{Mode: importer.ModeUpsert}})
}

// AdminImportPreviewPOST checks every line of the uploaded file, changing
// nothing. The page lists the errors by line, or offers to apply; the file
// itself is not kept, only the plan of its changes, in the database, so that
// any instance can apply it (see importer.Check).
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
	id, sum, err := s.importer.Check(c.Request.Context(), src, mode)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	name := filepath.Base(fh.Filename)
	status := http.StatusOK
	if sum.ErrorCount > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		if err := s.importer.DropPlan(c.Request.Context(), adminSessionString(c, adminValImportID)); err != nil {
			s.ServerError(c, err)
			return
		}
		sess := adminSession(c)
		sess.Values[adminValImportID], sess.Values[adminValImportMode], sess.Values[adminValImportName] = id, string(mode), name
	}
	s.Render(c, status, viewAdminImportPreview, render.Page{Title: "Check the import", Data: importPage{Mode: mode, FileName: name, Summary: sum}})
}

// AdminImportApplyPOST starts applying the previewed file (a job) and says
// what it did, or shows its progress while it goes on.
func (s *Section) AdminImportApplyPOST(c *gin.Context) {
	name := adminSessionString(c, adminValImportName)
	j, err := s.importer.BeginApply(c.Request.Context(), adminSessionString(c, adminValImportID), name, adminWho(c), jobWait)
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
	s.jobDone(c, j, "Imported "+name+": ", "/admin/import")
}
