package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/bulk"
	"enrollportal/internal/notify"
	"enrollportal/internal/web/render"
)

var (
	viewAdminBulk        = render.Declare("admin_bulk")
	viewAdminBulkPreview = render.Declare("admin_bulk_preview")
)

// adminBulkRoutes registers bulk enrollment, import, phones and activation
// links in the admin section.
func (s *Section) adminBulkRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/bulk", admin.ManageUsers, s.AdminBulkGET)
	s.adminHandle(g, http.MethodPost, "/bulk/preview", admin.ManageUsers, s.AdminBulkPreviewPOST)
	s.adminHandle(g, http.MethodPost, "/bulk/send", admin.ManageUsers, s.AdminBulkSendPOST)

	s.adminHandle(g, http.MethodGet, "/import", admin.ManageUsers, s.AdminImportGET)
	s.adminHandle(g, http.MethodPost, "/import/preview", admin.ManageUsers, s.AdminImportPreviewPOST)
	s.adminHandle(g, http.MethodPost, "/import/apply", admin.ManageUsers, s.AdminImportApplyPOST)

	s.adminHandle(g, http.MethodGet, "/users/:key/phones", admin.ManageUsers, s.AdminPhonesGET)
	s.adminHandle(g, http.MethodPost, "/users/:key/phones", admin.ManageUsers, s.AdminPhonesPOST)
	s.adminHandle(g, http.MethodGet, "/users/:key/phones/:phone/activate", admin.SendEnrollment, s.AdminPhoneActivateGET)
	s.adminHandle(g, http.MethodPost, "/users/:key/phones/:phone/activate", admin.SendEnrollment, s.AdminPhoneActivatePOST)

	s.adminHandle(g, http.MethodGet, "/activation", admin.SendEnrollment, s.AdminActivationGET)
	s.adminHandle(g, http.MethodPost, "/activation", admin.SendEnrollment, s.AdminActivationPOST)
}

// bulkForm is the paste and the message of a bulk enrollment.
type bulkForm struct {
	Paste    string
	Subject  string
	Body     string
	SaveText bool
}

func bulkFormOf(c *gin.Context) bulkForm {
	return bulkForm{
		Paste:    c.PostForm("paste"),
		Subject:  strings.TrimSpace(c.PostForm("subject")),
		Body:     strings.TrimSpace(strings.ReplaceAll(c.PostForm("body"), "\r\n", "\n")),
		SaveText: c.PostForm("save_text") == "1",
	}
}

type bulkPage struct {
	Form    bulkForm
	Error   string
	Preview bulk.Preview
	// The first rows of each kind, for the page; the counts are in Preview.
	Create, Relink, Skip []bulk.PreviewRow
	Problems             []bulk.Problem
	TextProblems         []string
	Placeholders         []string
	MaxRows              int
}

// AdminBulkGET shows the paste box of a bulk enrollment.
func (s *Section) AdminBulkGET(c *gin.Context) {
	s.Render(c, http.StatusOK, viewAdminBulk, render.Page{Title: "Bulk enroll", Data: bulkPage{MaxRows: bulk.MaxRows}})
}

// AdminBulkPreviewPOST shows, line by line, what sending the paste would
// do, and the message to edit. It changes nothing.
func (s *Section) AdminBulkPreviewPOST(c *gin.Context) {
	f := bulkFormOf(c)
	if strings.TrimSpace(f.Paste) == "" {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminBulk, render.Page{Title: "Bulk enroll", Data: bulkPage{
			Form: f, MaxRows: bulk.MaxRows, Error: "Paste at least one line: a username, a comma, and an email address.",
		}})
		return
	}
	text, err := s.bulk.Text(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	f.Subject, f.Body = text.Subject, text.Body
	s.renderBulkPreview(c, http.StatusOK, f, nil)
}

func (s *Section) renderBulkPreview(c *gin.Context, status int, f bulkForm, problems []string) {
	pv, err := s.bulk.Preview(c.Request.Context(), bulk.Parse(f.Paste))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, status, viewAdminBulkPreview, render.Page{Title: "Check and send", Data: bulkPage{
		Form: f, Preview: pv, Create: firstN(pv.Create, shownRows), Relink: firstN(pv.Relink, shownRows),
		Skip: firstN(pv.Skip, shownRows), Problems: firstN(pv.Problems, shownRows), TextProblems: problems, Placeholders: notify.Placeholders(notify.KindEnrollment), MaxRows: bulk.MaxRows,
	}})
}

// AdminBulkSendPOST sends the enrollment: new users created, links issued
// and emails queued in one transaction, then back to the paste page with
// what was done.
func (s *Section) AdminBulkSendPOST(c *gin.Context) {
	ctx := c.Request.Context()
	f := bulkFormOf(c)
	text := notify.Text{Subject: f.Subject, Body: f.Body}
	if problems := notify.ValidateText(notify.KindEnrollment, text); len(problems) > 0 {
		s.renderBulkPreview(c, http.StatusUnprocessableEntity, f, problems)
		return
	}
	pv, err := s.bulk.Preview(ctx, bulk.Parse(f.Paste))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	j, err := s.bulk.Begin(ctx, pv.Rows(), text, adminWho(c), jobWait)
	var ite *bulk.InvalidTextError
	switch {
	case errors.As(err, &ite):
		s.renderBulkPreview(c, http.StatusUnprocessableEntity, f, ite.Problems)
		return
	case errors.Is(err, bulk.ErrNothingToSend):
		s.renderBulkPreview(c, http.StatusUnprocessableEntity, f, []string{"No line creates or re-invites a user: every valid user is already enrolled. Nothing was sent."})
		return
	case err != nil:
		s.ServerError(c, err)
		return
	}
	if f.SaveText {
		if err := s.bulk.SaveText(ctx, text, adminWho(c)); err != nil {
			s.log.Error("save bulk text", "err", err)
		}
	}
	s.jobDone(c, j, "Done: ", "/admin/bulk")
}

// shownRows bounds how many lines of each kind a preview lists; the counts
// are always complete.
const shownRows = 200
