package admin

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/importer"
	"enrollportal/internal/secret"
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

// importPlanTTL is how long a checked file's plan waits for "apply".
const importPlanTTL = time.Hour

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

func (s *Section) importPath(id string) (string, bool) {
	// The id is ours (a random token), but it comes back from a cookie: take
	// no chances with the path.
	if len(id) != 43 || strings.ContainsAny(id, "/\\.") {
		return "", false
	}
	return filepath.Join(s.importDir, "plan-"+id), true
}

// sweepImports removes plans nobody applied.
func (s *Section) sweepImports() {
	entries, err := os.ReadDir(s.importDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && strings.HasPrefix(e.Name(), "plan-") && time.Since(info.ModTime()) > importPlanTTL {
			os.Remove(filepath.Join(s.importDir, e.Name()))
		}
	}
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
	s.sweepImports()
	id := secret.NewToken()
	planPath, _ := s.importPath(id)
	sum, err := s.importer.Check(c.Request.Context(), src, mode, planPath)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	name := filepath.Base(fh.Filename)
	status := http.StatusOK
	if sum.ErrorCount > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		sess := adminSession(c)
		if old, ok := s.importPath(adminSessionString(c, adminValImportID)); ok {
			importer.RemovePlan(old)
		}
		sess.Values[adminValImportID], sess.Values[adminValImportMode], sess.Values[adminValImportName] = id, string(mode), name
	}
	s.Render(c, status, viewAdminImportPreview, render.Page{Title: "Check the import", Data: importPage{Mode: mode, FileName: name, Summary: sum}})
}

// AdminImportApplyPOST starts applying the previewed file (a job) and says
// what it did, or shows its progress while it goes on.
func (s *Section) AdminImportApplyPOST(c *gin.Context) {
	path, ok := s.importPath(adminSessionString(c, adminValImportID))
	name := adminSessionString(c, adminValImportName)
	if _, err := os.Stat(path); !ok || err != nil {
		s.ShowError(c, http.StatusGone, "This import is no longer waiting",
			"The checked file was already applied, or it waited more than an hour.",
			"Upload the file again at "+s.baseURL+"/admin/import.")
		return
	}
	j, err := s.importer.BeginApply(c.Request.Context(), path, name, adminWho(c), jobWait)
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
