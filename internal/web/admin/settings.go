package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/org"
	"enrollportal/internal/web/render"
)

var viewAdminSettings = render.Declare("admin_settings")

// adminSettingsForm is the settings page.
type adminSettingsForm struct {
	OrgName         string
	HelpDeskMaySend bool
	ActivationHours string
	MessageHeader   string
	// LogoURL is the uploaded logo's address, empty when there is none.
	LogoURL string
	Errors  map[string]string
}

func (s *Section) loadSettingsForm(ctx context.Context) (adminSettingsForm, error) {
	v, err := org.Load(ctx, s.store)
	if err != nil {
		return adminSettingsForm{}, err
	}
	f := adminSettingsForm{
		OrgName: v.Name, HelpDeskMaySend: v.HelpDeskMaySend,
		ActivationHours: strconv.Itoa(v.ActivationHours), MessageHeader: v.MessageHeader,
		LogoURL: s.Logo().URL(ctx),
	}
	if f.OrgName == "" {
		f.OrgName = s.Org(ctx)
	}
	return f, nil
}

// AdminSettingsGET shows the organisation's settings.
func (s *Section) AdminSettingsGET(c *gin.Context) {
	f, err := s.loadSettingsForm(c.Request.Context())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminSettings, render.Page{Title: "Settings", Data: f})
}

// AdminSettingsPOST saves the settings in one transaction, with one audit
// record naming what changed.
func (s *Section) AdminSettingsPOST(c *gin.Context) {
	ctx := c.Request.Context()
	f := adminSettingsForm{
		OrgName:         strings.TrimSpace(c.PostForm("org_name")),
		HelpDeskMaySend: c.PostForm("helpdesk_may_send") == "true",
		ActivationHours: strings.TrimSpace(c.PostForm("activation_hours")),
		MessageHeader:   strings.TrimSpace(c.PostForm("message_header")),
		LogoURL:         s.Logo().URL(ctx),
		Errors:          map[string]string{},
	}
	for field, err := range org.CheckForm(f.OrgName, f.ActivationHours, f.MessageHeader) {
		f.Errors[field] = sentence(err)
	}
	hours, _ := strconv.Atoi(f.ActivationHours)
	ch := org.Change{Name: &f.OrgName, HelpDeskMaySend: &f.HelpDeskMaySend, ActivationHours: &hours, MessageHeader: &f.MessageHeader,
		RemoveLogo: c.PostForm("remove_logo") == "true"}
	if fh, err := c.FormFile("logo"); err == nil && fh.Size > 0 && !ch.RemoveLogo {
		if data, ctype, err := readLogoUpload(fh); err != nil {
			f.Errors["logo"] = err.Error()
		} else {
			ch.Logo = &org.Logo{Data: data, Type: ctype}
		}
	}
	if len(f.Errors) > 0 {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminSettings, render.Page{Title: "Settings", Data: f})
		return
	}
	changed, err := s.org.Save(ctx, ch, adminWho(c), s.clock.Now())
	if err != nil {
		s.ServerError(c, err)
		return
	}
	if !changed {
		s.adminDone(c, "Nothing was changed.", "/admin/settings")
		return
	}
	s.Logo().Forget()
	s.adminDone(c, "The settings were saved.", "/admin/settings")
}
