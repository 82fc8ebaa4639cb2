package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/admin"
	"enrollportal/internal/notify"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var viewAdminSettings = render.Declare("admin_settings")

// Settings rows the settings page edits besides org.SettingName and
// admin.SettingHelpDeskMaySend.
const (
	// SettingActivationHours is the default validity of activation links, in
	// hours (the activation pages offer it first).
	SettingActivationHours = "activation_validity_hours"
	// SettingMessageHeader is the header line every email and SMS starts with
	// (the notify package reads the same row).
	SettingMessageHeader = notify.SettingHeader
	// DefaultActivationHours applies until an admin sets another.
	DefaultActivationHours = 24
)

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
	f := adminSettingsForm{ActivationHours: strconv.Itoa(DefaultActivationHours)}
	get := func(name string) (string, error) {
		v, err := s.store.Setting(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return v, err
	}
	var err error
	if f.OrgName, err = get(org.SettingName); err != nil {
		return f, err
	}
	if f.OrgName == "" {
		f.OrgName = s.Org(ctx)
	}
	v, err := get(admin.SettingHelpDeskMaySend)
	if err != nil {
		return f, err
	}
	f.HelpDeskMaySend = v == "true"
	if v, err = get(SettingActivationHours); err != nil {
		return f, err
	} else if v != "" {
		f.ActivationHours = v
	}
	f.MessageHeader, err = get(SettingMessageHeader)
	f.LogoURL = s.Logo().URL(ctx)
	return f, err
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
	old, err := s.loadSettingsForm(ctx)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	f := adminSettingsForm{
		OrgName:         strings.TrimSpace(c.PostForm("org_name")),
		HelpDeskMaySend: c.PostForm("helpdesk_may_send") == "true",
		ActivationHours: strings.TrimSpace(c.PostForm("activation_hours")),
		MessageHeader:   strings.TrimSpace(c.PostForm("message_header")),
		Errors:          map[string]string{},
	}
	for field, err := range org.CheckForm(f.OrgName, f.ActivationHours, f.MessageHeader) {
		f.Errors[field] = sentence(err)
	}
	f.LogoURL = old.LogoURL
	var logo []byte
	var logoType string
	removeLogo := c.PostForm("remove_logo") == "true"
	if fh, err := c.FormFile("logo"); err == nil && fh.Size > 0 && !removeLogo {
		if logo, logoType, err = readLogoUpload(fh); err != nil {
			f.Errors["logo"] = err.Error()
		}
	}
	if len(f.Errors) > 0 {
		s.Render(c, http.StatusUnprocessableEntity, viewAdminSettings, render.Page{Title: "Settings", Data: f})
		return
	}
	helpdesk := strconv.FormatBool(f.HelpDeskMaySend)
	changes := map[string]string{}
	if f.OrgName != old.OrgName {
		changes[org.SettingName] = f.OrgName
	}
	if f.HelpDeskMaySend != old.HelpDeskMaySend {
		changes[admin.SettingHelpDeskMaySend] = helpdesk
	}
	if f.ActivationHours != old.ActivationHours {
		changes[SettingActivationHours] = f.ActivationHours
	}
	if f.MessageHeader != old.MessageHeader {
		changes[SettingMessageHeader] = f.MessageHeader
	}
	details := map[string]any{}
	for name, value := range changes {
		details[name] = value
	}
	// The image goes to its rows; the audit record only says what happened.
	switch {
	case logo != nil:
		changes[render.SettingLogo], changes[render.SettingLogoType] = base64.StdEncoding.EncodeToString(logo), logoType
		details["logo"] = "uploaded (" + logoType + ", " + strconv.Itoa(len(logo)) + " bytes)"
	case removeLogo && old.LogoURL != "":
		changes[render.SettingLogo], changes[render.SettingLogoType] = "", ""
		details["logo"] = "removed"
	}
	if len(changes) == 0 {
		s.adminDone(c, "Nothing was changed.", "/admin/settings")
		return
	}
	if err := s.org.Save(ctx, org.Change{Rows: changes, Details: details}, adminWho(c), s.clock.Now()); err != nil {
		s.ServerError(c, err)
		return
	}
	s.Logo().Forget()
	s.adminDone(c, "The settings were saved.", "/admin/settings")
}
