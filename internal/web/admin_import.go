package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/importer"
	"enrollportal/internal/secret"
)

var (
	viewAdminImport        = declareView("admin_import")
	viewAdminImportPreview = declareView("admin_import_preview")
)

// Admin session values of an import between its preview and its apply.
const (
	adminValImportID   = "import_id"
	adminValImportMode = "import_mode"
	adminValImportName = "import_name"
)

// importUploadTTL is how long an uploaded file waits for "apply".
const importUploadTTL = time.Hour

type importPage struct {
	Flash    *flash
	Error    string
	Mode     importer.Mode
	FileName string
	Summary  importer.Summary
	// Problem is set when applying failed on a line the database refused.
	Problem string
}

// AdminImportGET shows the upload form.
func (s *Server) AdminImportGET(c *gin.Context) {
	s.render(c, http.StatusOK, viewAdminImport, Page{Title: "Import users", Data: importPage{Flash: popFlash(c), Mode: importer.ModeUpsert}})
}

func (s *Server) importPath(id string) (string, bool) {
	// The id is ours (a random token), but it comes back from a cookie: take
	// no chances with the path.
	if len(id) != 43 || strings.ContainsAny(id, "/\\.") {
		return "", false
	}
	return filepath.Join(s.importDir, "upload-"+id+".csv"), true
}

// sweepImports removes uploads nobody applied.
func (s *Server) sweepImports() {
	entries, err := os.ReadDir(s.importDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && strings.HasPrefix(e.Name(), "upload-") && time.Since(info.ModTime()) > importUploadTTL {
			os.Remove(filepath.Join(s.importDir, e.Name()))
		}
	}
}

// AdminImportPreviewPOST keeps the uploaded file and checks every line of
// it, changing nothing. The page lists the errors by line, or offers to
// apply.
func (s *Server) AdminImportPreviewPOST(c *gin.Context) {
	mode := importer.Mode(c.PostForm("mode"))
	if !importer.ValidMode(mode) {
		mode = importer.ModeUpsert
	}
	fail := func(msg string) {
		s.render(c, http.StatusUnprocessableEntity, viewAdminImport, Page{Title: "Import users", Data: importPage{Error: msg, Mode: mode}})
	}
	fh, err := c.FormFile("file")
	if err != nil {
		fail("Choose a CSV file to import.")
		return
	}
	src, err := fh.Open()
	if err != nil {
		fail("The file could not be read. Try uploading it again.")
		return
	}
	defer src.Close()
	s.sweepImports()
	id := secret.NewToken()
	path, _ := s.importPath(id)
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		s.serverError(c, err)
		return
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(path)
		s.serverError(c, err)
		return
	}
	if err := dst.Close(); err != nil {
		os.Remove(path)
		s.serverError(c, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.serverError(c, err)
		return
	}
	sum, err := s.importer.Preview(c.Request.Context(), f, mode)
	f.Close()
	if err != nil {
		os.Remove(path)
		s.serverError(c, err)
		return
	}
	name := filepath.Base(fh.Filename)
	if sum.ErrorCount > 0 {
		os.Remove(path)
	} else {
		sess := adminSession(c)
		if old, ok := s.importPath(adminSessionString(c, adminValImportID)); ok {
			os.Remove(old)
		}
		sess.Values[adminValImportID], sess.Values[adminValImportMode], sess.Values[adminValImportName] = id, string(mode), name
	}
	status := http.StatusOK
	if sum.ErrorCount > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(c, status, viewAdminImportPreview, Page{Title: "Check the import", Data: importPage{Mode: mode, FileName: name, Summary: sum}})
}

// AdminImportApplyPOST applies the previewed file in one transaction.
func (s *Server) AdminImportApplyPOST(c *gin.Context) {
	path, ok := s.importPath(adminSessionString(c, adminValImportID))
	mode := importer.Mode(adminSessionString(c, adminValImportMode))
	name := adminSessionString(c, adminValImportName)
	f, err := os.Open(path)
	if !ok || err != nil {
		s.showError(c, http.StatusGone, "This import is no longer waiting",
			"The checked file was already applied, or it waited more than an hour.",
			"Upload the file again at "+s.baseURL+"/admin/import.")
		return
	}
	defer f.Close()
	sum, err := s.importer.Apply(c.Request.Context(), f, mode, adminWho(c))
	var conflict *importer.LineConflictError
	switch {
	case errors.Is(err, importer.ErrHasErrors):
		// The database changed since the preview (another admin at work).
		s.render(c, http.StatusUnprocessableEntity, viewAdminImportPreview, Page{Title: "Check the import", Data: importPage{
			Mode: mode, FileName: name, Summary: sum,
		}})
		return
	case errors.As(err, &conflict):
		s.render(c, http.StatusConflict, viewAdminImportPreview, Page{Title: "Check the import", Data: importPage{
			Mode: mode, FileName: name, Summary: sum,
			Problem: fmt.Sprintf("Nothing was imported: line %d could not be applied (%s). Upload the file again to check it against the current users.", conflict.Line, conflict.Reason),
		}})
		return
	case err != nil:
		s.serverError(c, err)
		return
	}
	f.Close()
	os.Remove(path)
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
	setFlash(c, msg, false)
	s.redirect(c, "/admin/import")
}
