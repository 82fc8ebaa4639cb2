package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminAccess = render.Declare("admin_access")

// effectiveRow is one setting's effective value and the level it comes
// from.
type effectiveRow struct {
	Setting, Value, Level string
}

// effectiveRows spells out an Effective with its sources.
func effectiveRows(e policy.Effective, src policy.Sources) []effectiveRow {
	countries := "none"
	if len(e.DeniedCountries) > 0 {
		var names []string
		for _, c := range e.DeniedCountries {
			names = append(names, policy.CountryName(c))
		}
		countries = strings.Join(names, ", ")
	}
	methods := func(ms []string) string {
		if len(ms) == 0 {
			return "none"
		}
		var out []string
		for _, m := range ms {
			out = append(out, methodLabel(m))
		}
		return strings.Join(out, ", ")
	}
	return []effectiveRow{
		{"New user policy", e.NewUserPolicy, levelLabel(src.NewUserPolicy)},
		{"Denied countries", countries, levelLabel(src.DeniedCountries)},
		{"Enrollment methods", methods(e.EnrollMethods), levelLabel(src.EnrollMethods)},
		{"Authentication methods", methods(e.AuthMethods), levelLabel(src.AuthMethods)},
	}
}

// overrideRow is a group override with what its members get.
type overrideRow struct {
	Group     store.Group
	Policy    store.Policy
	Effective []effectiveRow
}

type adminAccessPage struct {
	App       store.Application
	Policy    *store.Policy // the application's own policy
	Named     []store.Policy
	Groups    []store.Group
	Permitted map[int64]bool
	Effective []effectiveRow
	Overrides []overrideRow
	GeoIP     bool
	Errors    map[string]string
}

// loadAccessApp finds the application of the :key parameter in the
// configuration, or answers 404.
func (s *Section) loadAccessApp(c *gin.Context) (policy.Config, store.Application, bool) {
	cfg, err := s.policy.LoadConfig(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return cfg, store.Application{}, false
	}
	for _, a := range cfg.Apps {
		if a.Key == c.Param("key") {
			return cfg, a, true
		}
	}
	s.NotFound(c)
	return cfg, store.Application{}, false
}

func (s *Section) renderAccess(c *gin.Context, status int, cfg policy.Config, app store.Application, errs map[string]string) {
	page := adminAccessPage{App: app, Groups: cfg.Groups, Permitted: map[int64]bool{}, GeoIP: s.policy.GeoIP != nil, Errors: errs}
	if app.PolicyID != nil {
		p := cfg.Policies[*app.PolicyID]
		page.Policy = &p
	}
	for _, p := range cfg.Policies {
		if !p.IsGlobal {
			page.Named = append(page.Named, p)
		}
	}
	sortPolicies(page.Named)
	for _, g := range app.PermittedGroups {
		page.Permitted[g] = true
	}
	eff, src, _ := cfg.Effective(app, nil)
	page.Effective = effectiveRows(eff, src)
	for _, gp := range cfg.Overrides[app.ID] {
		g, _ := cfg.Group(gp.GroupID)
		e, src, _ := cfg.Effective(app, []int64{gp.GroupID})
		page.Overrides = append(page.Overrides, overrideRow{Group: g, Policy: cfg.Policies[gp.PolicyID], Effective: effectiveRows(e, src)})
	}
	s.Render(c, status, viewAdminAccess, render.Page{Title: "Access to " + app.Name, Data: page})
}

// AdminAccessGET shows who may use an application and which policy applies
// to them, with the level each effective setting comes from.
func (s *Section) AdminAccessGET(c *gin.Context) {
	cfg, app, ok := s.loadAccessApp(c)
	if !ok {
		return
	}
	s.renderAccess(c, http.StatusOK, cfg, app, nil)
}

// accessChange reads the change an access form asks for.
func accessChange(v url.Values, app store.Application) policy.Change {
	ch := policy.Change{Kind: v.Get("kind"), AppID: app.ID}
	id := func(field string) *int64 {
		n, err := strconv.ParseInt(v.Get(field), 10, 64)
		if err != nil || n <= 0 {
			return nil
		}
		return &n
	}
	switch ch.Kind {
	case policy.ChangeAppPolicy:
		ch.PolicyID = id("policy")
	case policy.ChangeAppGroups:
		ch.Restricted = v.Get("restricted") == "yes"
		for _, g := range v["groups"] {
			if n, err := strconv.ParseInt(g, 10, 64); err == nil {
				ch.Groups = append(ch.Groups, n)
			} else {
				ch.Groups = append(ch.Groups, -1) // refused as "not in the list"
			}
		}
	case policy.ChangeOverride, policy.ChangeOverrideRemove:
		if g := id("group"); g != nil {
			ch.GroupID = *g
		}
		ch.PolicyID = id("override_policy")
	}
	return ch
}

// AdminAccessPOST previews a change to an application's policy, permitted
// groups or group overrides, or applies it once the admin confirms.
func (s *Section) AdminAccessPOST(c *gin.Context) {
	cfg, app, ok := s.loadAccessApp(c)
	if !ok {
		return
	}
	v := formValues(c)
	ch := accessChange(v, app)
	titles := map[string]string{
		policy.ChangeAppPolicy:      "Change the policy of " + app.Name,
		policy.ChangeAppGroups:      "Change who may use " + app.Name,
		policy.ChangeOverride:       "Give a group its own policy in " + app.Name,
		policy.ChangeOverrideRemove: "Remove a group's policy in " + app.Name,
	}
	title, known := titles[ch.Kind]
	if !known {
		s.renderAccess(c, http.StatusUnprocessableEntity, cfg, app, map[string]string{"form": "Choose one of the forms on this page."})
		return
	}
	path := "/admin/applications/" + app.Key + "/access"
	s.previewOrApply(c, v, ch, impactTarget{
		Title: title, Action: path, Done: path, Flash: "The access settings of " + app.Name + " were saved.",
		Invalid: func(errs map[string]string) { s.renderAccess(c, http.StatusUnprocessableEntity, cfg, app, errs) },
	})
}

// AdminAccessImpactCSVGET streams every user a previewed access change
// moves.
func (s *Section) AdminAccessImpactCSVGET(c *gin.Context) {
	_, app, ok := s.loadAccessApp(c)
	if !ok {
		return
	}
	s.impactCSV(c, accessChange(formValues(c), app), "application-"+app.Key)
}

// sortPolicies orders policies as lists show them: the global one first,
// then by name.
func sortPolicies(ps []store.Policy) {
	slices.SortFunc(ps, func(a, b store.Policy) int {
		if a.IsGlobal != b.IsGlobal {
			if a.IsGlobal {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}
