package admin

import (
	"encoding/csv"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminAudit = render.Declare("admin_audit")

const (
	auditPageSize = 100
	// auditExportMax bounds one CSV export; narrow the filter for more.
	auditExportMax = 100000
)

// adminAuditPage is the audit log page: the filter and one page of entries.
type adminAuditPage struct {
	Actor, Action, Target, From, To string
	Entries                         []store.AuditEntry
	// Links built from the filter (url.Values.Encode, so safe as URLs).
	ExportURL template.URL
	FirstURL  template.URL // empty on the first page
	NextURL   template.URL // empty on the last page
	Errors    map[string]string
	filter    url.Values
}

func (p adminAuditPage) link(path string, before int64) template.URL {
	q := url.Values{}
	for k, v := range p.filter {
		q[k] = v
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return template.URL(path)
	}
	return template.URL(path + "?" + q.Encode())
}

// readAuditFilter reads the filter from the query string.
func readAuditFilter(c *gin.Context) (adminAuditPage, store.AuditFilter) {
	p := adminAuditPage{
		Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		Target: strings.TrimSpace(c.Query("target")), From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")),
		Errors: map[string]string{},
	}
	f := store.AuditFilter{Actor: p.Actor, Action: p.Action, Target: p.Target, Limit: auditPageSize + 1}
	if p.From != "" {
		t, err := time.Parse("2006-01-02", p.From)
		if err != nil {
			p.Errors["from"] = "Enter a date as YYYY-MM-DD, for example 2026-03-01."
		}
		f.From = t
	}
	if p.To != "" {
		t, err := time.Parse("2006-01-02", p.To)
		if err != nil {
			p.Errors["to"] = "Enter a date as YYYY-MM-DD, for example 2026-03-31."
		} else {
			f.To = t.AddDate(0, 0, 1) // the whole "to" day
		}
	}
	p.filter = url.Values{}
	for k, v := range map[string]string{"actor": p.Actor, "action": p.Action, "target": p.Target, "from": p.From, "to": p.To} {
		if v != "" {
			p.filter.Set(k, v)
		}
	}
	p.ExportURL = p.link("/admin/audit.csv", 0)
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
		p.FirstURL = p.link("/admin/audit", 0)
	}
	return p, f
}

// AdminAuditGET shows the audit log, newest first, filtered by actor,
// action, target and dates.
func (s *Section) AdminAuditGET(c *gin.Context) {
	page, f := readAuditFilter(c)
	if len(page.Errors) > 0 {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminAudit, render.Page{Title: "Audit log", Data: page})
		return
	}
	entries, err := s.store.SearchAudit(c.Request.Context(), f)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		page.NextURL = page.link("/admin/audit", entries[len(entries)-1].ID)
	}
	page.Entries = entries
	s.Render(c, http.StatusOK, viewAdminAudit, render.Page{Title: "Audit log", Data: page})
}

// AdminAuditCSVGET exports the filtered audit log as CSV.
func (s *Section) AdminAuditCSVGET(c *gin.Context) {
	page, f := readAuditFilter(c)
	if len(page.Errors) > 0 {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminAudit, render.Page{Title: "Audit log", Data: page})
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="audit-log.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"id", "time_utc", "actor_type", "actor", "action", "target_type", "target", "ip", "details", "count", "latest_utc"})
	f.Limit = 1000
	written := 0
	for written < auditExportMax {
		entries, err := s.store.SearchAudit(c.Request.Context(), f)
		if err != nil {
			// Headers are gone; the log says why the file is short.
			s.log.Error("audit export", "err", err)
			break
		}
		for _, e := range entries {
			_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339),
				csvCell(e.ActorType), csvCell(e.Actor), csvCell(e.Action), csvCell(e.TargetType), csvCell(e.Target), csvCell(e.IP), csvCell(e.Details),
				strconv.Itoa(e.Count), e.LastAt.UTC().Format(time.RFC3339)})
		}
		written += len(entries)
		if len(entries) < f.Limit {
			break
		}
		f.BeforeID = entries[len(entries)-1].ID
	}
	w.Flush()
}

// csvCell neutralises spreadsheet formulas: a cell that starts with = + - @
// tab or carriage return is prefixed with a single quote, so that a
// username such as "=HYPERLINK(...)" stays text when the file is opened.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
