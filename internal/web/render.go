package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/templates"
)

// declaredViews is every page some handler renders, declared next to the
// handlers with declareView. parseViews fails the start when a declared page
// has no template, or a template no declared page, so a typo never waits for
// a user to find it.
var declaredViews = map[string]bool{}

// declareView registers a page name at package initialisation and returns it,
// for a package-level variable: var viewHome = declareView("home").
func declareView(name string) string {
	declaredViews[name] = true
	return name
}

var (
	viewError = declareView("error")
	viewHome  = declareView("home")
)

type views struct {
	pages  map[string]*template.Template
	assets *assets
}

// Page is what every template gets: the frame's fields, and Data for the
// page's own.
type Page struct {
	Title string
	Org   string
	CSRF  string
	// Help is the line shown in the same place on every screen.
	Help string
	// Admin is set on the pages of a signed-in admin (the admin navigation).
	Admin *AdminFrame
	Data  any
}

func parseViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"asset": func(name string) string { return v.assets.url(name) },
		"add":   func(a, b int) int { return a + b },
		// Admin pages: times in UTC, labels for stored codes.
		"when":            formatWhen,
		"statusLabel":     statusLabel,
		"roleLabel":       admin.RoleLabel,
		"activationTexts": activationTextsData,
		// otpauth marks an otpauth:// URL the portal built itself as safe for
		// an href; html/template would otherwise blank the unknown scheme.
		"otpauth": func(u string) template.URL {
			if !strings.HasPrefix(u, "otpauth://") {
				return "#"
			}
			return template.URL(u)
		},
		"chooseForm": chooseFormOf,
	}
	// Files whose names start with "_" are partials, parsed into every page.
	partials, _ := fs.Glob(templates.FS, "_*.html")
	for name := range declaredViews {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templates.FS, append([]string{"layout.html", name + ".html"}, partials...)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		for _, block := range []string{"title", "content"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("web: template %s does not define %q", name, block)
			}
		}
		v.pages[name] = t
	}
	// A template file that no handler renders is a sign of a renamed view.
	files, _ := fs.Glob(templates.FS, "*.html")
	for _, f := range files {
		name := strings.TrimSuffix(f, ".html")
		if _, ok := v.pages[name]; !ok && name != "layout" && !strings.HasPrefix(name, "_") {
			return nil, fmt.Errorf("web: template %s.html is not declared with declareView", name)
		}
	}
	return v, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes the page name with status. It saves the session first, since
// headers cannot follow the body.
func (s *Server) render(c *gin.Context, status int, name string, p Page) {
	t, ok := s.views.pages[name]
	if !ok {
		panic("web: render of unknown view " + name)
	}
	if p.Org == "" {
		p.Org = s.mustOrg(c.Request.Context())
	}
	p.CSRF = csrfToken(c)
	if p.Admin == nil {
		p.Admin = adminFrameOf(c)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.Execute(buf, p); err != nil {
		s.log.Error("render", "view", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong on our side. Please try again in a minute.</p>")
	}
	s.saveSessions(c)
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// redirect answers a form post with 303 See Other to a path of the portal
// (Post/Redirect/Get), saving the session first.
func (s *Server) redirect(c *gin.Context, path string) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		panic("web: redirect to a non-local path")
	}
	s.saveSessions(c)
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}
