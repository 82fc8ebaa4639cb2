package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/web/render"
)

var (
	viewAdminPhones     = render.Declare("admin_phones")
	viewAdminActivate   = render.Declare("admin_activate")
	viewAdminActivation = render.Declare("admin_activation")
)

// adminValFlashLink is an activation link to show the admin once.
const adminValFlashLink = "flash_link"

// phoneRow is one phone on a user's phones page.
type phoneRow struct {
	Phone        store.Phone
	Label        string
	CanActivate  bool
	PendingUntil string
}

type phonesPage struct {
	User      store.User
	Phones    []phoneRow
	FlashLink string
	Form      phoneForm
	Error     string
	Platforms []string
}

type phoneForm struct {
	Type, Number, Platform, Name string
}

// AdminPhonesGET lists a user's phones and tablets, with the form that adds
// one.
func (s *Section) AdminPhonesGET(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	link := adminSessionString(c, adminValFlashLink)
	delete(adminSession(c).Values, adminValFlashLink)
	s.renderPhones(c, http.StatusOK, u, phonesPage{FlashLink: link, Form: phoneForm{Type: store.PhoneMobile}})
}

func (s *Section) renderPhones(c *gin.Context, status int, u store.User, page phonesPage) {
	ctx := c.Request.Context()
	phones, err := s.store.PhonesByUser(ctx, u.ID)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	now := s.clock.Now()
	for _, p := range phones {
		row := phoneRow{Phone: p, Label: enroll.DeviceLabel(p), CanActivate: enroll.CanActivate(p)}
		if live, err := s.store.LiveSentActivationCode(ctx, p.ID, now); err == nil {
			row.PendingUntil = notify.FormatExpiry(live.ExpiresAt)
		} else if !errors.Is(err, store.ErrNotFound) {
			s.ServerError(c, err)
			return
		}
		page.Phones = append(page.Phones, row)
	}
	page.User, page.Platforms = u, enroll.AdminPlatforms
	s.Render(c, status, viewAdminPhones, render.Page{Title: "Phones of " + u.Username, Data: page})
}

// phoneRegion is the region numbers without +country code belong to.
func (s *Section) phoneRegion(c *gin.Context) string {
	// An unreadable setting falls back to the default region: the number's
	// check then says what is wrong with it.
	r, _ := org.PhoneRegion(c.Request.Context(), s.store)
	return r
}

// AdminPhonesPOST adds a phone or tablet to the user.
func (s *Section) AdminPhonesPOST(c *gin.Context) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return
	}
	f := phoneForm{
		Type: c.PostForm("type"), Number: strings.TrimSpace(c.PostForm("number")),
		Platform: c.PostForm("platform"), Name: strings.TrimSpace(c.PostForm("name")),
	}
	ph, err := s.enroll.AddPhone(c.Request.Context(), u, enroll.NewPhone{
		Type: f.Type, Number: f.Number, Platform: f.Platform, Name: f.Name, Region: s.phoneRegion(c),
	}, adminWho(c))
	if err != nil {
		msg := map[error]string{
			enroll.ErrInvalidNumber:    "That phone number does not look right. Write it with its +country code, for example +1 201 555 0123.",
			enroll.ErrTabletNumber:     "A tablet has no phone number: leave the number empty.",
			enroll.ErrInvalidPhoneType: "Choose mobile, landline or tablet.",
			enroll.ErrInvalidPlatform:  "Choose a platform from the list.",
			enroll.ErrInvalidPhoneName: fmt.Sprintf("The name is at most %d characters, without control characters.", enroll.MaxPhoneNameLength),
		}
		for e, m := range msg {
			if errors.Is(err, e) {
				s.renderPhones(c, http.StatusUnprocessableEntity, u, phonesPage{Form: f, Error: m})
				return
			}
		}
		s.ServerError(c, err)
		return
	}
	s.adminDone(c, "Added "+enroll.DeviceLabel(ph)+".", "/admin/users/"+u.Key+"/phones")
}

// activationForm is how to send activation links, with the texts.
type activationForm struct {
	Via          string
	Hours        int
	EmailSubject string
	EmailBody    string
	SMSInstall   string
	SMSActivate  string
	WithLogo     bool
}

// activationHours are the validity choices offered, in hours, besides the
// organisation's setting.
var activationHours = []int{1, 24, 72, 168, 720}

// activationChoices are the validity choices of the send forms: the usual
// ones and the organisation's setting (the forms' default), in order.
func (s *Section) activationChoices(c *gin.Context) (def int, choices []int, err error) {
	def, err = s.org.ActivationHours(c.Request.Context())
	if err != nil {
		return 0, nil, err
	}
	choices = slices.Clone(activationHours)
	if !slices.Contains(choices, def) {
		choices = append(choices, def)
		slices.Sort(choices)
	}
	return def, choices, nil
}

func (s *Section) defaultActivationForm(c *gin.Context, via string) (activationForm, error) {
	def, _, err := s.activationChoices(c)
	if err != nil {
		return activationForm{}, err
	}
	email, sms, err := s.enroll.ActivationTexts(c.Request.Context())
	return activationForm{
		Via: via, Hours: def,
		EmailSubject: email.Subject, EmailBody: email.Body, SMSInstall: sms.Install, SMSActivate: sms.Activation,
	}, err
}

func activationFormOf(c *gin.Context) activationForm {
	hours, _ := strconv.Atoi(c.PostForm("hours"))
	clean := func(name string) string {
		return strings.TrimSpace(strings.ReplaceAll(c.PostForm(name), "\r\n", "\n"))
	}
	return activationForm{
		Via: c.PostForm("via"), Hours: hours,
		EmailSubject: clean("email_subject"), EmailBody: clean("email_body"),
		SMSInstall: clean("sms_install"), SMSActivate: clean("sms_activate"),
		WithLogo: c.PostForm("logo") == "1",
	}
}

func (s *Section) activationSend(f activationForm) enroll.ActivationSend {
	return enroll.ActivationSend{
		Via: f.Via, TTL: time.Duration(f.Hours) * time.Hour,
		EmailText: notify.Text{Subject: f.EmailSubject, Body: f.EmailBody},
		SMSText:   notify.ActivationSMSText{Install: f.SMSInstall, Activation: f.SMSActivate},
		WithLogo:  f.WithLogo, LogoURL: s.baseURL + s.AssetURL("logo.svg"),
	}
}

// hourChoice is one validity choice of the send forms.
type hourChoice struct {
	Hours int
	Label string // "1 hour", "36 hours", "3 days"
}

// hourChoices are the validity choices to show; the usual ones when the
// setting cannot be read (the send then refuses a choice it cannot check).
func (s *Section) hourChoices(c *gin.Context) []hourChoice {
	hours := activationHours
	if _, choices, err := s.activationChoices(c); err == nil {
		hours = choices
	}
	out := make([]hourChoice, len(hours))
	for i, h := range hours {
		out[i] = hourChoice{Hours: h, Label: hoursLabel(h)}
	}
	return out
}

// hoursLabel says h hours as people say it: whole days from two days on.
func hoursLabel(h int) string {
	switch {
	case h == 1:
		return "1 hour"
	case h >= 48 && h%24 == 0:
		return strconv.Itoa(h/24) + " days"
	}
	return strconv.Itoa(h) + " hours"
}

// validHours tells whether h is one of the validity choices the forms offer.
func (s *Section) validHours(c *gin.Context, h int) bool {
	_, choices, err := s.activationChoices(c)
	return err == nil && slices.Contains(choices, h)
}

// preferredVia is the channel the send forms start on: SMS for a device
// with a number when an SMS gateway is configured, else email, which can
// be delivered (or is at least the one an admin can set up on this page's
// server).
func (s *Section) preferredVia(hasNumber bool) string {
	if hasNumber && s.notify.Configured(store.ChannelSMS) {
		return enroll.ViaSMS
	}
	return enroll.ViaEmail
}

// activationProblem says in words why an activation link was not sent; ok
// is false for an error that is not the admin's to fix (a server fault).
func activationProblem(err error) (reason string, ok bool) {
	var pending *enroll.ActivationPendingError
	switch {
	case errors.As(err, &pending):
		return "an activation link sent earlier works until " + notify.FormatExpiry(pending.Until) + "; a new one can be sent after that", true
	case errors.Is(err, enroll.ErrNoNumber):
		return "it has no mobile number to text; send the link by email instead", true
	case errors.Is(err, enroll.ErrNoEmail):
		return "the user has no email address; add one or send by SMS", true
	case errors.Is(err, enroll.ErrNotActivatable):
		return "only a mobile with a known platform, or a tablet, can be activated", true
	case errors.Is(err, enroll.ErrPhoneNotOfUser), errors.Is(err, enroll.ErrUserNotFound):
		return "the user or device no longer exists", true
	case errors.Is(err, enroll.ErrInvalidTTL):
		return "choose how long the link works from the list", true
	}
	return "it could not be sent", false
}

type activatePage struct {
	User         store.User
	Phone        phoneRow
	Form         activationForm
	Hours        []hourChoice
	Placeholders map[string][]string
	Problems     []string
}

func activationPlaceholders() map[string][]string {
	return map[string][]string{
		"email":    notify.Placeholders(notify.KindActivationEmail),
		"install":  notify.Placeholders(notify.KindSMSInstall),
		"activate": notify.Placeholders(notify.KindSMSActivation),
	}
}

// loadAdminPhone finds the :phone (its public id) among the user's phones.
func (s *Section) loadAdminPhone(c *gin.Context, u store.User) (phoneRow, bool) {
	ctx := c.Request.Context()
	phones, err := s.store.PhonesByUser(ctx, u.ID)
	if err != nil {
		s.ServerError(c, err)
		return phoneRow{}, false
	}
	for _, p := range phones {
		if p.Key == c.Param("phone") {
			row := phoneRow{Phone: p, Label: enroll.DeviceLabel(p), CanActivate: enroll.CanActivate(p)}
			if live, err := s.store.LiveSentActivationCode(ctx, p.ID, s.clock.Now()); err == nil {
				row.PendingUntil = notify.FormatExpiry(live.ExpiresAt)
			}
			return row, true
		}
	}
	s.ShowError(c, http.StatusNotFound, "No such device", "This user has no such phone or tablet; it may have been removed.",
		"Go back to "+s.baseURL+"/admin/users/"+u.Key+"/phones.")
	return phoneRow{}, false
}

// userPhoneParams loads the user and the device the route names, or shows
// "not found".
func (s *Section) userPhoneParams(c *gin.Context) (store.User, phoneRow, bool) {
	u, ok := s.userByKeyParam(c)
	if !ok {
		return u, phoneRow{}, false
	}
	row, ok := s.loadAdminPhone(c, u)
	return u, row, ok
}

// AdminPhoneActivateGET shows how to activate one device: send a link by SMS
// or email, or only show it.
func (s *Section) AdminPhoneActivateGET(c *gin.Context) {
	u, row, ok := s.userPhoneParams(c)
	if !ok {
		return
	}
	if !row.CanActivate {
		s.ShowError(c, http.StatusConflict, "This device cannot be activated",
			"Only a mobile phone with a known platform, or a tablet, can hold the authenticator app.",
			"Change the device's platform, or add the phone again with its platform.")
		return
	}
	f, err := s.defaultActivationForm(c, s.preferredVia(row.Phone.Type == store.PhoneMobile && row.Phone.Number != ""))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	s.Render(c, http.StatusOK, viewAdminActivate, render.Page{Title: "Activate " + row.Label, Data: activatePage{
		User: u, Phone: row, Form: f, Hours: s.hourChoices(c), Placeholders: activationPlaceholders(),
	}})
}

// AdminPhoneActivatePOST issues an activation code for the device and sends
// it, then shows the link once on the phones page.
func (s *Section) AdminPhoneActivatePOST(c *gin.Context) {
	u, row, ok := s.userPhoneParams(c)
	if !ok {
		return
	}
	f := activationFormOf(c)
	again := func(status int, problems []string) {
		s.Render(c, status, viewAdminActivate, render.Page{Title: "Activate " + row.Label, Data: activatePage{
			User: u, Phone: row, Form: f, Hours: s.hourChoices(c), Placeholders: activationPlaceholders(), Problems: problems,
		}})
	}
	if !s.validHours(c, f.Hours) {
		again(http.StatusUnprocessableEntity, []string{"Choose how long the link works from the list."})
		return
	}
	issued, err := s.enroll.SendActivation(c.Request.Context(), enroll.ActivationTarget{UserID: u.ID, PhoneID: row.Phone.ID}, s.activationSend(f), adminWho(c))
	var ite *enroll.InvalidTextError
	switch {
	case errors.As(err, &ite):
		again(http.StatusUnprocessableEntity, ite.Problems)
		return
	case errors.Is(err, enroll.ErrBadVia):
		again(http.StatusUnprocessableEntity, []string{"Choose how to send the link."})
		return
	case err != nil:
		reason, ok := activationProblem(err)
		if !ok {
			s.ServerError(c, err)
			return
		}
		again(http.StatusConflict, []string{"Not sent: " + reason + "."})
		return
	}
	msg := "Activation link for " + row.Label + " created; it works until " + notify.FormatExpiry(issued.Code.ExpiresAt) + "."
	switch f.Via {
	case enroll.ViaSMS:
		msg = "Activation link sent by SMS (two messages) to " + row.Label + "; it works until " + notify.FormatExpiry(issued.Code.ExpiresAt) + "."
		if !s.notify.Configured(store.ChannelSMS) {
			msg = "Activation link queued for " + row.Label + "; no SMS gateway is configured, so the messages wait in the outbox. It works until " + notify.FormatExpiry(issued.Code.ExpiresAt) + "."
		}
	case enroll.ViaEmail:
		msg = "Activation link sent by email to " + u.Email + "; it works until " + notify.FormatExpiry(issued.Code.ExpiresAt) + "."
		if !s.notify.Configured(store.ChannelEmail) {
			msg = "Activation link queued for " + u.Email + "; no email server is configured, so the email waits in the outbox. It works until " + notify.FormatExpiry(issued.Code.ExpiresAt) + "."
		}
	}
	adminSession(c).Values[adminValFlashLink] = issued.URL
	s.adminDone(c, msg, "/admin/users/"+u.Key+"/phones")
}

type activationListRow struct {
	store.UnactivatedDevice
	Label        string
	Value        string
	PendingUntil string
	Checked      bool
}

type activationListPage struct {
	Devices      []activationListRow
	Form         activationForm
	Hours        []hourChoice
	Placeholders map[string][]string
	Problems     []string
	Skipped      []string
	Limit        int
}

// activationListLimit bounds the devices listed on one page.
const activationListLimit = 500

func (s *Section) renderActivationList(c *gin.Context, status int, page activationListPage, checked map[string]bool) {
	devices, err := s.store.UnactivatedDevices(c.Request.Context(), s.clock.Now(), activationListLimit)
	if err != nil {
		s.ServerError(c, err)
		return
	}
	for _, d := range devices {
		row := activationListRow{UnactivatedDevice: d, Label: enroll.DeviceLabel(d.Phone), Value: fmt.Sprintf("%d:%d", d.User.ID, d.Phone.ID)}
		if d.PendingUntil != nil {
			row.PendingUntil = notify.FormatExpiry(*d.PendingUntil)
		}
		row.Checked = checked[row.Value]
		page.Devices = append(page.Devices, row)
	}
	page.Hours, page.Placeholders, page.Limit = s.hourChoices(c), activationPlaceholders(), activationListLimit
	s.Render(c, status, viewAdminActivation, render.Page{Title: "Send activation links", Data: page})
}

// AdminActivationGET lists users whose smartphones or tablets are not
// activated, to send them activation links.
func (s *Section) AdminActivationGET(c *gin.Context) {
	f, err := s.defaultActivationForm(c, s.preferredVia(true))
	if err != nil {
		s.ServerError(c, err)
		return
	}
	page := activationListPage{Form: f}
	if v, ok := adminSession(c).Values["activation_skipped"].(string); ok && v != "" {
		page.Skipped = strings.Split(v, "\n")
		delete(adminSession(c).Values, "activation_skipped")
	}
	s.renderActivationList(c, http.StatusOK, page, nil)
}

// AdminActivationPOST sends activation links to the ticked devices, in one
// transaction; devices that cannot be sent to are listed with the reason.
func (s *Section) AdminActivationPOST(c *gin.Context) {
	f := activationFormOf(c)
	checked := map[string]bool{}
	var targets []enroll.ActivationTarget
	for _, v := range c.PostFormArray("device") {
		userID, phoneID, ok := strings.Cut(v, ":")
		u, err1 := strconv.ParseInt(userID, 10, 64)
		p, err2 := strconv.ParseInt(phoneID, 10, 64)
		if !ok || err1 != nil || err2 != nil || checked[v] {
			continue
		}
		checked[v] = true
		targets = append(targets, enroll.ActivationTarget{UserID: u, PhoneID: p})
	}
	again := func(problems []string) {
		s.renderActivationList(c, http.StatusUnprocessableEntity, activationListPage{Form: f, Problems: problems}, checked)
	}
	switch {
	case len(targets) == 0:
		again([]string{"Tick at least one user."})
		return
	case f.Via != enroll.ViaSMS && f.Via != enroll.ViaEmail:
		again([]string{"Choose SMS or email."})
		return
	case !s.validHours(c, f.Hours):
		again([]string{"Choose how long the links work from the list."})
		return
	}
	out, err := s.enroll.SendActivations(c.Request.Context(), targets, s.activationSend(f), adminWho(c))
	var ite *enroll.InvalidTextError
	if errors.As(err, &ite) {
		again(ite.Problems)
		return
	}
	if err != nil {
		s.ServerError(c, err)
		return
	}
	sent := 0
	var skipped []string
	for _, o := range out {
		if o.Skipped == nil {
			sent++
			continue
		}
		who := o.Username
		if o.Device != "" {
			who += " (" + o.Device + ")"
		}
		reason, _ := activationProblem(o.Skipped)
		skipped = append(skipped, who+": "+reason)
	}
	via := map[string]string{enroll.ViaSMS: "SMS", enroll.ViaEmail: "email"}[f.Via]
	msg := fmt.Sprintf("Sent %d activation %s by %s.", sent, plural(sent, "link", "links"), via)
	// Without a gateway nothing leaves the outbox: say so rather than "sent".
	if channel := map[string]string{enroll.ViaSMS: store.ChannelSMS, enroll.ViaEmail: store.ChannelEmail}[f.Via]; !s.notify.Configured(channel) {
		gateway := map[string]string{enroll.ViaSMS: "SMS gateway", enroll.ViaEmail: "email server"}[f.Via]
		msg = fmt.Sprintf("%d activation %s queued by %s; no %s is configured, so they wait in the outbox.", sent, plural(sent, "link", "links"), via, gateway)
	}
	if len(skipped) > 0 {
		msg += fmt.Sprintf(" %d not sent; see below.", len(skipped))
		adminSession(c).Values["activation_skipped"] = strings.Join(firstN(skipped, 20), "\n")
	}
	s.adminDone(c, msg, "/admin/activation")
}

// activationTextsDataT is what the shared "admin_activation_texts" partial
// needs.
type activationTextsDataT struct {
	Form         activationForm
	Hours        []hourChoice
	Placeholders map[string][]string
	Problems     []string
	ShowOnly     bool // offer "only show me the link"
}

func activationTextsData(f activationForm, hours []hourChoice, placeholders map[string][]string, problems []string, showOnly bool) activationTextsDataT {
	return activationTextsDataT{Form: f, Hours: hours, Placeholders: placeholders, Problems: problems, ShowOnly: showOnly}
}
