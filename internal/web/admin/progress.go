package admin

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/bulk"
	"enrollportal/internal/enroll"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminProgress      = render.Declare("admin_progress")
	viewAdminProgressUsers = render.Declare("admin_progress_users")
)

// adminProgressRoutes registers the enrollment progress pages: every role
// may look; sending is for those who may send enrollment emails.
func (s *Section) adminProgressRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/enrollment-progress", admin.ViewUsers, s.AdminProgressGET)
	s.adminHandle(g, http.MethodGet, "/enrollment-progress.csv", admin.ViewUsers, s.AdminProgressCSVGET)
	s.adminHandle(g, http.MethodGet, "/enrollment-progress/users", admin.ViewUsers, s.AdminProgressUsersGET)
	s.adminHandle(g, http.MethodPost, "/enrollment-progress/send", admin.SendEnrollment, s.AdminProgressSendPOST)
}

// stateLabels name the enrollment states.
var stateLabels = map[string]string{
	policy.StateDisabled: "disabled", policy.StateLockedOut: "locked out", policy.StateEnrolled: "enrolled",
	policy.StatePending: "pending link", policy.StatePartial: "partially enrolled",
}

// AdminProgressGET shows how many users are enrolled, partially enrolled,
// have a pending link, are locked out or disabled, per group and per
// application.
func (s *Section) AdminProgressGET(c *gin.Context) {
	p, err := s.policy.Progress(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminProgress, render.Page{Title: "Enrollment progress", Data: p})
}

// AdminProgressCSVGET exports the progress table, one row per scope.
func (s *Section) AdminProgressCSVGET(c *gin.Context) {
	p, err := s.policy.Progress(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="enrollment-progress.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"scope", "name", "users", "enrolled", "partially_enrolled", "pending_link", "locked_out", "disabled"})
	row := func(scope, name string, n policy.ProgressCounts) {
		_ = w.Write([]string{scope, csvCell(name), strconv.Itoa(n.Total), strconv.Itoa(n.Enrolled), strconv.Itoa(n.Partial),
			strconv.Itoa(n.Pending), strconv.Itoa(n.LockedOut), strconv.Itoa(n.Disabled)})
	}
	row("all", "", p.All)
	for _, g := range p.Groups {
		row("group", g.Name, g.Counts)
	}
	for _, a := range p.Apps {
		row("application", a.Name, a.Counts)
	}
	w.Flush()
}

type adminProgressUsersPage struct {
	Scope     policy.Scope
	ScopeName string
	Users     []progressUserRow
	Left      int
	NoEmail   int
	Shown     int
}

type progressUserRow struct {
	Username, Email, State string
}

// maxProgressRows bounds how many users the page lists; the send covers
// them all.
const maxProgressRows = 500

// remaining lists the users of the scope in the request who are left to
// enroll (not enrolled, not disabled or locked out).
func (s *Section) remaining(c *gin.Context) (policy.Scope, string, []policy.ProgressUser, bool) {
	sc := policy.Scope{GroupKey: c.Request.FormValue("group"), AppKey: c.Request.FormValue("application")}
	users, name, err := s.policy.ProgressUsers(c.Request.Context(), sc)
	if errors.Is(err, policy.ErrNoSuchScope) {
		s.NotFound(c)
		return sc, "", nil, false
	}
	if err != nil {
		s.ServerError(c, err)
		return sc, "", nil, false
	}
	var left []policy.ProgressUser
	for _, u := range users {
		if u.State == policy.StatePartial || u.State == policy.StatePending {
			left = append(left, u)
		}
	}
	return sc, name, left, true
}

// AdminProgressUsersGET lists the users of a group or application who are
// left to enroll, with the button that sends them enrollment emails.
func (s *Section) AdminProgressUsersGET(c *gin.Context) {
	sc, name, left, ok := s.remaining(c)
	if !ok {
		return
	}
	page := adminProgressUsersPage{Scope: sc, ScopeName: name, Left: len(left)}
	for _, u := range left {
		if !enroll.HasValidEmail(store.User{Email: u.Email}) {
			page.NoEmail++
		}
		if len(page.Users) < maxProgressRows {
			page.Users = append(page.Users, progressUserRow{u.Username, u.Email, stateLabels[u.State]})
		}
	}
	page.Shown = len(page.Users)
	s.Render(c, http.StatusOK, viewAdminProgressUsers, render.Page{Title: "Left to enroll: " + name, Data: page})
}

// AdminProgressSendPOST sends an enrollment email to every user of the
// scope left to enroll who has an email address, through the bulk send
// (a fresh link each, through the outbox, as a job).
func (s *Section) AdminProgressSendPOST(c *gin.Context) {
	_, _, left, ok := s.remaining(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var rows []bulk.Row
	for i, u := range left {
		if enroll.HasValidEmail(store.User{Email: u.Email}) {
			rows = append(rows, bulk.Row{Line: i + 1, Username: u.Username, Email: u.Email})
		}
	}
	text, err := s.bulk.Text(ctx)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	back := "/admin/enrollment-progress"
	if len(rows) == 0 {
		s.adminDone(c, "Nobody left to enroll here has an email address, so nothing was sent.", back)
		return
	}
	j, err := s.bulk.Begin(ctx, rows, text, adminWho(c), jobWait)
	if errors.Is(err, bulk.ErrNothingToSend) {
		s.adminDone(c, "Everyone here enrolled meanwhile, so nothing was sent.", back)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.notify.Wake()
	s.jobDone(c, j, "Done: ", back)
}

// progressRowData is one row of the progress tables.
type progressRowData struct {
	Name   string
	Counts policy.ProgressCounts
	Link   string
}

// progressRow gathers a progress row's data for the template.
func progressRow(name string, n policy.ProgressCounts, link string) progressRowData {
	return progressRowData{name, n, link}
}
