package admin

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminPolicies = render.Declare("admin_policies")
	viewAdminPolicy   = render.Declare("admin_policy")
	viewAdminImpact   = render.Declare("admin_impact")
)

// adminPolicyRoutes registers the policy pages, the application access
// pages and Check access. Every role may look; Owners, Administrators and
// Application Managers change.
func (s *Section) adminPolicyRoutes(g *gin.RouterGroup) {
	s.adminHandle(g, http.MethodGet, "/policies", admin.ViewUsers, s.AdminPoliciesGET)
	s.adminHandle(g, http.MethodPost, "/policies", admin.ManageApplications, s.AdminPoliciesPOST)
	s.adminHandle(g, http.MethodGet, "/policies/:key", admin.ViewUsers, s.AdminPolicyGET)
	s.adminHandle(g, http.MethodPost, "/policies/:key", admin.ManageApplications, s.AdminPolicyPOST)
	s.adminHandle(g, http.MethodGet, "/policies/:key/impact.csv", admin.ManageApplications, s.AdminPolicyImpactCSVGET)
	s.adminHandle(g, http.MethodPost, "/policies/:key/delete", admin.ManageApplications, s.AdminPolicyDeletePOST)
	s.adminHandle(g, http.MethodGet, "/applications/:key/access", admin.ViewUsers, s.AdminAccessGET)
	s.adminHandle(g, http.MethodPost, "/applications/:key/access", admin.ManageApplications, s.AdminAccessPOST)
	s.adminHandle(g, http.MethodGet, "/applications/:key/access/impact.csv", admin.ManageApplications, s.AdminAccessImpactCSVGET)
	s.adminHandle(g, http.MethodGet, "/check-access", admin.ViewUsers, s.AdminCheckAccessGET)
}

// methodLabels name the methods as pages show them.
var methodLabels = map[string]string{
	store.MethodAuthenticatorApp: "Authenticator app (passcodes)",
	store.MethodSecurityKey:      "Security key",
	store.MethodSMS:              "Text message (SMS) passcodes",
	store.MethodHardwareToken:    "Hardware token",
}

func methodLabel(m string) string {
	if l, ok := methodLabels[m]; ok {
		return l
	}
	return m
}

// levelLabel names the level a value comes from.
func levelLabel(level string) string {
	switch level {
	case policy.LevelDefault:
		return "built-in default"
	case policy.LevelGlobal:
		return "global policy"
	case policy.LevelApplication:
		return "application"
	case policy.LevelGroup:
		return "group override"
	case policy.LevelUser:
		return "the user's account"
	}
	return level
}

// policySetting is one setting of a policy as a form shows it.
type policySetting struct {
	Inherit bool     // the policy leaves it to the level above
	Values  []string // the values it sets
}

// policyForm is a policy being created or edited.
type policyForm struct {
	Policy        store.Policy
	Name          string
	NewUser       string // "" inherits
	Countries     policySetting
	Enroll        policySetting
	Auth          policySetting
	Errors        map[string]string
	AllCountries  []policy.Country
	Methods       []string
	NewUserValues []string
}

func newPolicyForm(p store.Policy) policyForm {
	return policyForm{
		Policy: p, Name: p.Name, NewUser: p.NewUserPolicy,
		Countries:    policySetting{Inherit: p.DeniedCountries == nil, Values: p.DeniedCountries},
		Enroll:       policySetting{Inherit: p.EnrollMethods == nil, Values: p.EnrollMethods},
		Auth:         policySetting{Inherit: p.AuthMethods == nil, Values: p.AuthMethods},
		Errors:       map[string]string{},
		AllCountries: policy.Countries, Methods: policy.Methods, NewUserValues: policy.NewUserPolicies,
	}
}

// formValues are the fields of a form: the body of a post, or the query of
// the CSV link that repeats a previewed form.
func formValues(c *gin.Context) url.Values {
	if c.Request.Method == http.MethodGet {
		return c.Request.URL.Query()
	}
	_ = c.Request.ParseForm()
	return c.Request.PostForm
}

// policyFromForm reads a policy's settings; "inherit" (for a list, any mode
// but "set") leaves a setting to the level above.
func policyFromForm(v url.Values, p store.Policy) store.Policy {
	p.Name = strings.TrimSpace(v.Get("name"))
	p.NewUserPolicy = v.Get("new_user_policy")
	if p.NewUserPolicy == "inherit" {
		p.NewUserPolicy = ""
	}
	list := func(mode, field string) []string {
		if v.Get(mode) != "set" {
			return nil
		}
		out := []string{}
		for _, x := range v[field] {
			if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	p.DeniedCountries = list("denied_countries_mode", "denied_countries")
	p.EnrollMethods = list("enroll_methods_mode", "enroll_methods")
	p.AuthMethods = list("auth_methods_mode", "auth_methods")
	return p
}

// policyFieldErrors turns the policy domain's errors by field into
// sentences; ok is false when err is another kind of error.
func policyFieldErrors(err error) (map[string]string, bool) {
	var fe policy.FieldErrors
	if !errors.As(err, &fe) {
		return nil, false
	}
	return fieldErrors(fe), true
}

// policyRow is a policy in the list, with where it is used.
type policyRow struct {
	store.Policy
	Uses []string
}

type adminPoliciesPage struct {
	Policies []policyRow
	Apps     []store.Application
	GeoIP    bool
	Form     policyForm
}

func (s *Section) renderPolicies(c *gin.Context, status int, form policyForm) {
	cfg, err := s.policy.LoadConfig(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := adminPoliciesPage{Apps: cfg.Apps, GeoIP: s.policy.GeoIP != nil, Form: form}
	pols := slices.Collect(func(yield func(store.Policy) bool) {
		for _, p := range cfg.Policies {
			if !yield(p) {
				return
			}
		}
	})
	sortPolicies(pols)
	for _, p := range pols {
		page.Policies = append(page.Policies, policyRow{Policy: p, Uses: cfg.Uses(p.ID)})
	}
	s.Render(c, status, viewAdminPolicies, render.Page{Title: "Policies", Data: page})
}

// AdminPoliciesGET lists the global and named policies, where each is
// used, and the form to create one.
func (s *Section) AdminPoliciesGET(c *gin.Context) {
	s.renderPolicies(c, http.StatusOK, newPolicyForm(store.Policy{}))
}

// AdminPoliciesPOST creates a named policy; nothing uses it yet, so it
// needs no preview.
func (s *Section) AdminPoliciesPOST(c *gin.Context) {
	p := policyFromForm(formValues(c), store.Policy{})
	created, err := s.policy.CreatePolicy(c.Request.Context(), p, adminWho(c))
	if errs, ok := policyFieldErrors(err); ok {
		form := newPolicyForm(p)
		form.Errors = errs
		s.renderPolicies(c, http.StatusUnprocessableEntity, form)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Policy "+created.Name+" was created. Choose it for an application or a group on the application's access page.", "/admin/policies/"+created.Key)
}

type adminPolicyPage struct {
	Form  policyForm
	Uses  []string
	GeoIP bool
	// Notice explains why the page is shown again (a delete refused).
	Notice string
}

// policyByKey finds a policy by its public id in the configuration.
func policyByKey(cfg policy.Config, key string) (store.Policy, bool) {
	for _, p := range cfg.Policies {
		if p.Key == key {
			return p, true
		}
	}
	return store.Policy{}, false
}

func (s *Section) renderPolicy(c *gin.Context, status int, form policyForm, notice string) {
	cfg, err := s.policy.LoadConfig(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	title := "Policy " + form.Policy.Name
	if form.Policy.IsGlobal {
		title = "Global policy"
	}
	s.Render(c, status, viewAdminPolicy, render.Page{Title: title, Data: adminPolicyPage{
		Form: form, Uses: cfg.Uses(form.Policy.ID), GeoIP: s.policy.GeoIP != nil, Notice: notice}})
}

// loadPolicy finds the policy of the :key parameter, or answers 404.
func (s *Section) loadPolicy(c *gin.Context) (policy.Config, store.Policy, bool) {
	cfg, err := s.policy.LoadConfig(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return cfg, store.Policy{}, false
	}
	p, ok := policyByKey(cfg, c.Param("key"))
	if !ok {
		s.NotFound(c)
	}
	return cfg, p, ok
}

// AdminPolicyGET shows a policy's settings (a form for those who may
// change it).
func (s *Section) AdminPolicyGET(c *gin.Context) {
	_, p, ok := s.loadPolicy(c)
	if !ok {
		return
	}
	s.renderPolicy(c, http.StatusOK, newPolicyForm(p), "")
}

// policyChange reads the change a policy form asks for.
func policyChange(v url.Values, p store.Policy) policy.Change {
	return policy.Change{Kind: policy.ChangePolicy, Policy: policyFromForm(v, p)}
}

// AdminPolicyPOST previews a change to a policy, or applies it when the
// admin confirms the preview.
func (s *Section) AdminPolicyPOST(c *gin.Context) {
	_, p, ok := s.loadPolicy(c)
	if !ok {
		return
	}
	v := formValues(c)
	ch := policyChange(v, p)
	title := "Change the global policy"
	if !p.IsGlobal {
		title = "Change policy " + p.Name
	}
	s.previewOrApply(c, v, ch, impactTarget{
		Title: title, Action: "/admin/policies/" + p.Key, Done: "/admin/policies/" + p.Key,
		Flash: "The policy was saved.",
		Invalid: func(errs map[string]string) {
			form := newPolicyForm(ch.Policy)
			form.Policy.ID, form.Policy.Key, form.Policy.IsGlobal, form.Errors = p.ID, p.Key, p.IsGlobal, errs
			if p.IsGlobal {
				form.Name, form.Policy.Name = p.Name, p.Name
			}
			s.renderPolicy(c, http.StatusUnprocessableEntity, form, "")
		},
	})
}

// AdminPolicyImpactCSVGET streams every user a previewed policy change
// moves, one row per user and application.
func (s *Section) AdminPolicyImpactCSVGET(c *gin.Context) {
	_, p, ok := s.loadPolicy(c)
	if !ok {
		return
	}
	s.impactCSV(c, policyChange(formValues(c), p), "policy-"+p.Key)
}

// AdminPolicyDeletePOST deletes a named policy that nothing uses; one in
// use stays, and the page says where it is used.
func (s *Section) AdminPolicyDeletePOST(c *gin.Context) {
	_, p, ok := s.loadPolicy(c)
	if !ok {
		return
	}
	_, err := s.policy.DeletePolicy(c.Request.Context(), p.ID, adminWho(c))
	var inUse policy.InUseError
	switch {
	case errors.As(err, &inUse):
		s.renderPolicy(c, http.StatusConflict, newPolicyForm(p),
			"The policy was not deleted: it is in use. Choose another policy in the places listed below first.")
	case errors.Is(err, policy.ErrGlobalNotDeleted):
		s.renderPolicy(c, http.StatusConflict, newPolicyForm(p), sentence(err))
	case errors.Is(err, policy.ErrNoSuchPolicy):
		s.adminDone(c, "The policy was already deleted.", "/admin/policies")
	case err != nil:
		s.ServerError(c, err)
	default:
		s.adminDone(c, "Policy "+p.Name+" was deleted.", "/admin/policies")
	}
}

// impactTarget is where a previewed change comes from and goes back to.
type impactTarget struct {
	Title  string // "Change policy Contractors"
	Action string // where the form posts
	Done   string // where to go once saved
	Flash  string
	// Invalid shows the form again with errors by field.
	Invalid func(errs map[string]string)
}

// hiddenField is a field of the previewed form, repeated in the confirm
// form.
type hiddenField struct{ Name, Value string }

type adminImpactPage struct {
	Target  impactTarget
	Impact  policy.Impact
	Fields  []hiddenField
	CSVURL  string
	Notice  string
	Summary []string
}

// previewOrApply shows the impact of ch, or, when the form carries the
// version of a preview (the admin confirmed), applies it.
func (s *Section) previewOrApply(c *gin.Context, v url.Values, ch policy.Change, t impactTarget) {
	ctx := c.Request.Context()
	notice := ""
	if version := v.Get("confirm_version"); version != "" {
		err := s.policy.Apply(ctx, ch, version, adminWho(c))
		if errs, ok := policyFieldErrors(err); ok {
			t.Invalid(errs)
			return
		}
		switch {
		case err == nil:
			s.adminDone(c, t.Flash, t.Done)
			return
		case errors.Is(err, policy.ErrConfigChanged):
			notice = "Someone changed the access settings since you saw the preview, so nothing was saved. Here is the effect of your change now; confirm again to save it."
		default:
			s.ServerError(c, err)
			return
		}
	}
	im, _, err := s.policy.Preview(ctx, ch)
	if errs, ok := policyFieldErrors(err); ok {
		t.Invalid(errs)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := adminImpactPage{Target: t, Impact: im, Notice: notice}
	q := url.Values{}
	for name, vals := range v {
		if name == "csrf_token" || name == "confirm_version" {
			continue
		}
		for _, x := range vals {
			page.Fields = append(page.Fields, hiddenField{name, x})
			q.Add(name, x)
		}
	}
	slices.SortFunc(page.Fields, func(a, b hiddenField) int { return strings.Compare(a.Name+"\x00"+a.Value, b.Name+"\x00"+b.Value) })
	page.CSVURL = t.Action + "/impact.csv?" + q.Encode()
	s.Render(c, http.StatusOK, viewAdminImpact, render.Page{Title: t.Title + ": check the effect", Data: page})
}

// impactCSV streams the rows of a change's impact as a CSV file.
func (s *Section) impactCSV(c *gin.Context, ch policy.Change, name string) {
	ctx := c.Request.Context()
	started := false
	w := csv.NewWriter(c.Writer)
	err := s.policy.PreviewRows(ctx, ch, func(r policy.ImpactRow) error {
		if !started {
			started = true
			c.Header("Content-Type", "text/csv; charset=utf-8")
			c.Header("Content-Disposition", `attachment; filename="impact-`+name+`.csv"`)
			c.Status(http.StatusOK)
			if err := w.Write([]string{"application", "username", "from", "to", "reason"}); err != nil {
				return err
			}
		}
		return w.Write([]string{csvCell(r.Application), csvCell(r.Username), r.From, r.To, r.Reason})
	})
	if _, ok := policyFieldErrors(err); ok {
		s.ShowError(c, http.StatusUnprocessableEntity, "This change cannot be made",
			"The change this file describes is not valid any more. Go back and preview it again.", "")
		return
	}
	if err != nil && !started {
		s.ServerError(c, err)
		return
	}
	if err != nil {
		s.log.Error("impact csv", "err", err)
		return
	}
	if !started {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="impact-`+name+`.csv"`)
		c.Status(http.StatusOK)
		_ = w.Write([]string{"application", "username", "from", "to", "reason"})
	}
	w.Flush()
}

// policyMethodsData is one list of methods in the policy form.
type policyMethodsData struct {
	Form                policyForm
	Field, Legend, Hint string
	Setting             policySetting
}

// policyMethods gathers a methods fieldset's data for the template.
func policyMethods(f policyForm, field, legend, hint string, s policySetting) policyMethodsData {
	return policyMethodsData{Form: f, Field: field, Legend: legend, Hint: hint, Setting: s}
}
