package admin

import (
	"fmt"
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
	// Problem is set when applying failed on a line the database refused.
	Problem string
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

// AdminImportApplyPOST applies the previewed file in one transaction.
func (s *Section) AdminImportApplyPOST(c *gin.Context) {
	path, ok := s.importPath(adminSessionString(c, adminValImportID))
	mode := importer.Mode(adminSessionString(c, adminValImportMode))
	name := adminSessionString(c, adminValImportName)
	if _, err := os.Stat(path); !ok || err != nil {
		s.ShowError(c, http.StatusGone, "This import is no longer waiting",
			"The checked file was already applied, or it waited more than an hour.",
			"Upload the file again at "+s.baseURL+"/admin/import.")
		return
	}
	sum, err := s.importer.ApplyPlan(c.Request.Context(), path, adminWho(c))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	importer.RemovePlan(path)
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
