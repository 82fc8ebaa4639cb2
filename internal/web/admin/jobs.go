package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminJobs = render.Declare("admin_jobs")
	viewAdminJob  = render.Declare("admin_job")
)

// jobWait is how long a page that starts a bulk send or an import waits for
// it: a small one is done by then and the page says what it did; a larger
// one goes on in the background and the admin lands on its progress page.
const jobWait = 2 * time.Second

// shownJobs bounds the finished jobs listed beside the running ones.
const shownJobs = 20

func (s *Section) adminJobRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/jobs", admin.ViewUsers, s.AdminJobsGET)
	s.adminHandle(g, http.MethodGet, "/jobs/:id", admin.ViewUsers, s.AdminJobGET)
}

// AdminJobsGET lists the running bulk sends and imports, and the last
// finished ones.
func (s *Section) AdminJobsGET(c *gin.Context) {
	list, err := s.jobs.Recent(c.Request.Context(), shownJobs)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminJobs, render.Page{Title: "Bulk sends and imports", Data: list})
}

// AdminJobGET shows one job's progress as of now, with a link to look
// again while it runs.
func (s *Section) AdminJobGET(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.NotFound(c)
		return
	}
	v, err := s.jobs.Job(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.NotFound(c)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminJob, render.Page{Title: v.Title, Data: v})
}

// jobDone sends the admin on after starting a job: back to from with what
// the job did when it is done, else to the job's page (its progress, the
// lines it skipped, or why it failed).
func (s *Section) jobDone(c *gin.Context, j store.Job, prefix, from string) {
	if j.Status != store.JobDone || len(j.Skipped) > 0 {
		s.Redirect(c, "/admin/jobs/"+strconv.FormatInt(j.ID, 10))
		return
	}
	s.adminDone(c, prefix+s.jobs.ViewOf(j).Summary, from)
}
