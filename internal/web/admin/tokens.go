package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminTokens        = render.Declare("admin_tokens")
	viewAdminTokensPreview = render.Declare("admin_tokens_preview")
)

// maxTokenImport bounds the pasted CSV of a token import.
const maxTokenImport = 1 << 20

type adminTokensPage struct {
	Tokens []store.OATHToken
	Error  string
}

// TypeLabel writes a token's type as the import takes it.
func (adminTokensPage) TypeLabel(t store.OATHToken) string {
	return factors.TokenTypeLabel(t.Type, t.Step)
}

// AdminTokensGET lists the hardware tokens, with the import, assign and
// resync forms.
func (s *Section) AdminTokensGET(c *gin.Context) { s.renderTokens(c, http.StatusOK, "") }

func (s *Section) renderTokens(c *gin.Context, status int, msg string) {
	ts, err := s.factors.Tokens(c.Request.Context(), 1000)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, status, viewAdminTokens, render.Page{Title: "Hardware tokens", Data: adminTokensPage{Tokens: ts, Error: msg}})
}

type adminTokensPreviewPage struct {
	CSV   string
	Lines []factors.TokenLine
	Good  bool
}

// AdminTokensPreviewPOST checks a pasted import and shows it by line; it
// changes nothing.
func (s *Section) AdminTokensPreviewPOST(c *gin.Context) {
	text := c.PostForm("csv")
	if len(text) > maxTokenImport {
		s.renderTokens(c, http.StatusRequestEntityTooLarge, "The import is larger than 1 MB; split it.")
		return
	}
	lines, err := s.factors.ParseTokens(c.Request.Context(), strings.NewReader(text))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.renderTokenPreview(c, text, lines)
}

func (s *Section) renderTokenPreview(c *gin.Context, text string, lines []factors.TokenLine) {
	p := adminTokensPreviewPage{CSV: text, Lines: lines, Good: len(lines) > 0}
	status := http.StatusOK
	for _, l := range lines {
		if l.Problem != "" {
			p.Good, status = false, http.StatusUnprocessableEntity
		}
	}
	// The pasted secrets are on this page: never kept by a cache.
	c.Header("Cache-Control", "no-store")
	s.Render(c, status, viewAdminTokensPreview, render.Page{Title: "Check the token import", Data: p})
}

// AdminTokensImportPOST adds the tokens of a previewed import, all or none.
func (s *Section) AdminTokensImportPOST(c *gin.Context) {
	text := c.PostForm("csv")
	ctx := c.Request.Context()
	lines, err := s.factors.ParseTokens(ctx, strings.NewReader(text))
	if err != nil || len(text) > maxTokenImport {
		s.renderTokens(c, http.StatusUnprocessableEntity, "The import could not be read. Paste it again.")
		return
	}
	n, err := s.factors.ImportTokens(ctx, lines, s.enroll, adminWho(c))
	if errors.Is(err, factors.ErrTokenImportInvalid) {
		s.renderTokenPreview(c, text, lines)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Imported "+strconv.Itoa(n)+" hardware tokens. Assign each to its user below.", "/admin/tokens")
}

// AdminTokensAssignPOST gives a token to a user.
func (s *Section) AdminTokensAssignPOST(c *gin.Context) {
	serial, username := c.PostForm("serial"), c.PostForm("username")
	err := s.factors.AssignToken(c.Request.Context(), serial, username, adminWho(c))
	switch {
	case err == nil:
		s.adminDone(c, "Token "+strings.TrimSpace(serial)+" now belongs to "+strings.TrimSpace(username)+".", "/admin/tokens")
	case errors.Is(err, factors.ErrTokenNotFound):
		s.renderTokens(c, http.StatusUnprocessableEntity, "There is no token with that serial. Nothing was changed.")
	case errors.Is(err, factors.ErrUserNotFound):
		s.renderTokens(c, http.StatusUnprocessableEntity, "There is no user with that username. Nothing was changed.")
	case errors.Is(err, factors.ErrTokenAssigned):
		s.renderTokens(c, http.StatusConflict, "That token belongs to another user; a token belongs to one user only. Nothing was changed.")
	default:
		s.ServerError(c, err)
	}
}

// AdminTokensResyncPOST sets a HOTP token's counter from three
// consecutive codes.
func (s *Section) AdminTokensResyncPOST(c *gin.Context) {
	serial := c.PostForm("serial")
	codes := [3]string{c.PostForm("code1"), c.PostForm("code2"), c.PostForm("code3")}
	err := s.factors.ResyncToken(c.Request.Context(), serial, codes, s.enroll, adminWho(c))
	switch {
	case err == nil:
		s.adminDone(c, "Token "+strings.TrimSpace(serial)+" is in step again.", "/admin/tokens")
	case errors.Is(err, factors.ErrTokenNotFound):
		s.renderTokens(c, http.StatusUnprocessableEntity, "There is no token with that serial. Nothing was changed.")
	case errors.Is(err, factors.ErrResyncTOTP):
		s.renderTokens(c, http.StatusUnprocessableEntity, "That token is time-based and needs no resync; check its clock instead.")
	case errors.Is(err, factors.ErrResyncFailed):
		s.renderTokens(c, http.StatusUnprocessableEntity, "Those are not three consecutive codes of that token. Press the button three times and enter the codes in order. Nothing was changed.")
	default:
		s.ServerError(c, err)
	}
}
