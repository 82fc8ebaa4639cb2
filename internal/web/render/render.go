package render

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"enrollportal/internal/admin"
	"enrollportal/templates"
)

// declared is every page some handler renders, declared next to the handlers
// with Declare. New fails the start when a declared page has no template, or
// a template no declared page, so a typo never waits for a user to find it.
var declared = map[string]bool{}

// Declare registers a page name at package initialisation and returns it,
// for a package-level variable: var viewHome = render.Declare("home").
func Declare(name string) string {
	declared[name] = true
	return name
}

var viewError = Declare("error")

// Page is what every template gets: the frame's fields, and Data for the
// page's own.
type Page struct {
	Title string
	Org   string
	CSRF  string
	// Help is the line shown in the same place on every screen.
	Help string
	// Logo is the address of the organisation's uploaded logo, or empty for
	// the default one.
	Logo string
	// Admin is set on the pages of a signed-in admin (the admin navigation).
	Admin *AdminFrame
	Data  any
}

// AdminFrame is what the admin layout (the navigation) knows about the
// signed-in admin. The admin section builds it (Options.Frame) for every
// page it renders.
type AdminFrame struct {
	Email     string
	Name      string
	RoleLabel string
	Path      string
	// Flash is the outcome of the admin's last action (Post/Redirect/Get).
	Flash string
	// Role and Settings decide which links and buttons Can shows.
	Role     string
	Settings admin.Settings
}

// Can reports whether the admin may do what the permission named p covers,
// for showing only the links and buttons that will work.
func (f *AdminFrame) Can(p string) bool { return admin.Can(f.Role, admin.Permission(p), f.Settings) }

// Current reports whether the page is in the section at path, for
// aria-current in the navigation.
func (f *AdminFrame) Current(path string) bool {
	if path == "/admin" {
		return f.Path == "/admin"
	}
	return f.Path == path || strings.HasPrefix(f.Path, path+"/")
}

// Options are what the renderer needs from the server that owns it.
type Options struct {
	// Funcs are the template functions of the pages, on top of the shared
	// ones (asset, add, otpauth).
	Funcs template.FuncMap
	// AssetURL is the cache-busted address of an embedded asset.
	AssetURL func(name string) string
	Log      *slog.Logger
	// Org returns the organisation's name shown on every page; nil shows
	// "Enrollment Portal".
	Org func(ctx context.Context) string
	// Logo is the organisation's uploaded logo for every page's header.
	Logo *Logo
	// Frame returns the admin navigation of the request, or nil outside
	// the signed-in admin section.
	Frame func(c *gin.Context) *AdminFrame
	// BaseURL is the portal's own origin; forms from elsewhere are refused.
	BaseURL string
}

// Renderer renders the portal's pages. It is safe for concurrent use.
type Renderer struct {
	pages    map[string]*template.Template
	assetURL func(string) string
	log      *slog.Logger
	org      func(ctx context.Context) string
	logo     *Logo
	frame    func(c *gin.Context) *AdminFrame
	baseURL  string
}

// New parses the templates of every declared page. A template that is
// missing or does not parse fails here, not on a request.
func New(o Options) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, assetURL: o.AssetURL, log: o.Log, org: o.Org, logo: o.Logo, frame: o.Frame, baseURL: o.BaseURL}
	funcs := template.FuncMap{
		"asset": func(name string) string { return r.assetURL(name) },
		"add":   func(a, b int) int { return a + b },
		// otpauth marks an otpauth:// URL the portal built itself as safe for
		// an href; html/template would otherwise blank the unknown scheme.
		"otpauth": func(u string) template.URL {
			if !strings.HasPrefix(u, "otpauth://") {
				return "#"
			}
			return template.URL(u)
		},
	}
	for name, f := range o.Funcs {
		funcs[name] = f
	}
	// Files whose names start with "_" are partials, parsed into every page.
	partials, _ := fs.Glob(templates.FS, "_*.html")
	for name := range declared {
		t, err := r.parse(funcs, append([]string{"layout.html", name + ".html"}, partials...))
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		for _, block := range []string{"title", "content"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("web: template %s does not define %q", name, block)
			}
		}
		r.pages[name] = t
	}
	// A template file that no handler renders is a sign of a renamed view.
	files, _ := fs.Glob(templates.FS, "*.html")
	for _, f := range files {
		name := strings.TrimSuffix(f, ".html")
		if _, ok := r.pages[name]; !ok && name != "layout" && !strings.HasPrefix(name, "_") {
			return nil, fmt.Errorf("web: template %s.html is not declared with render.Declare", name)
		}
	}
	return r, nil
}

// assetCall is a template's {{asset "name"}}.
var assetCall = regexp.MustCompile(`{{asset "([^"]+)"}}`)

// parse parses the template files into one template named after the
// first. The address of an asset, fixed for the life of the process (its
// content hash), is written into the template text once here rather than
// computed by a template function on every page.
func (r *Renderer) parse(funcs template.FuncMap, files []string) (*template.Template, error) {
	var t *template.Template
	for _, f := range files {
		text, err := fs.ReadFile(templates.FS, f)
		if err != nil {
			return nil, err
		}
		var missing error
		text = assetCall.ReplaceAllFunc(text, func(m []byte) []byte {
			name := string(assetCall.FindSubmatch(m)[1])
			defer func() {
				if v := recover(); v != nil {
					missing = fmt.Errorf("%s: unknown asset %s", f, name)
				}
			}()
			return []byte(r.assetURL(name))
		})
		if missing != nil {
			return nil, missing
		}
		next := t
		if t == nil {
			t = template.New(f).Funcs(funcs)
			next = t
		} else {
			next = t.New(f)
		}
		if _, err := next.Parse(string(text)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Org is the organisation's name shown on every page.
func (r *Renderer) Org(ctx context.Context) string {
	if r.org == nil {
		return "Enrollment Portal"
	}
	return r.org(ctx)
}

// AssetURL is the cache-busted address of an embedded asset.
func (r *Renderer) AssetURL(name string) string { return r.assetURL(name) }

// Logo is the organisation's logo the page headers show.
func (r *Renderer) Logo() *Logo { return r.logo }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render writes the page name with status. It saves the sessions first, since
// headers cannot follow the body.
func (r *Renderer) Render(c *gin.Context, status int, name string, p Page) {
	t, ok := r.pages[name]
	if !ok {
		panic("web: render of unknown view " + name)
	}
	if p.Org == "" {
		p.Org = r.Org(c.Request.Context())
	}
	p.CSRF = CSRFToken(c)
	if p.Logo == "" && r.logo != nil {
		p.Logo = r.logo.URL(c.Request.Context())
	}
	if p.Admin == nil && r.frame != nil {
		p.Admin = r.frame(c)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.Execute(buf, p); err != nil {
		r.log.Error("render", "view", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong on our side. Please try again in a minute.</p>")
	}
	r.saveSessions(c)
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// Redirect answers a form post with 303 See Other to a path of the portal
// (Post/Redirect/Get), saving the sessions first.
func (r *Renderer) Redirect(c *gin.Context, path string) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		panic("web: redirect to a non-local path")
	}
	r.saveSessions(c)
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}

// sessionsKey holds, in the request's context, the sessions to save before
// the response is written.
const sessionsKey = "render_sessions"

// KeepSession marks sess, loaded by a middleware for this request, to be
// saved by Render and Redirect before they write.
func KeepSession(c *gin.Context, sess *sessions.Session) {
	list, _ := c.Get(sessionsKey)
	kept, _ := list.([]*sessions.Session)
	c.Set(sessionsKey, append(kept, sess))
}

// saveSessions writes whichever session cookies this request loaded.
func (r *Renderer) saveSessions(c *gin.Context) {
	list, _ := c.Get(sessionsKey)
	kept, _ := list.([]*sessions.Session)
	for _, sess := range kept {
		if sess.IsNew && len(sess.Values) == 0 {
			// Nothing to remember: no cookie to encode and send.
			continue
		}
		if err := sess.Save(c.Request, c.Writer); err != nil {
			r.log.Error("save session", "session", sess.Name(), "err", err)
		}
	}
}
