package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
	"enrollportal/internal/web/render"
)

// The device page (/my-devices): a user types their username, proves a
// factor they have, and then sees, renames, removes and adds devices and
// makes recovery codes, for enroll.ProofTTL.
var (
	viewDevicesStart = render.Declare("devices_start")
	viewDevicesProve = render.Declare("devices_prove")
	viewDevices      = render.Declare("devices")
	viewDevicesCodes = render.Declare("devices_codes")
)

const (
	devicesPath = "/my-devices"
	// devicesNameKey holds the username typed; devicesUserKey the id of the
	// user proved, with proofKey(id) saying until when.
	devicesNameKey = "devices:name"
	devicesUserKey = "devices:user"
	helpDevices    = "Lost your only device? Ask your help desk for a bypass code or a reset."
)

// deviceRoutes registers the device page.
func (s *Server) deviceRoutes(pages *gin.RouterGroup) {
	pages.GET(devicesPath, s.DevicesGET)
	pages.POST(devicesPath+"/start", s.DevicesStartPOST)
	pages.GET(devicesPath+"/prove", s.DevicesProveGET)
	pages.POST(devicesPath+"/prove", s.DevicesProvePOST)
	pages.POST(devicesPath+"/prove/sms", s.DevicesProveSMSPOST)
	pages.POST(devicesPath+"/prove/key/options", s.DevicesKeyOptionsPOST)
	pages.POST(devicesPath+"/prove/key/verify", s.DevicesKeyVerifyPOST)
	signedIn := pages.Group(devicesPath, s.devicesUser)
	signedIn.POST("/rename", s.DevicesRenamePOST)
	signedIn.POST("/remove", s.DevicesRemovePOST)
	signedIn.POST("/add", s.DevicesAddPOST)
	signedIn.POST("/recovery-codes", s.DevicesRecoveryCodesPOST)
	signedIn.POST("/signout", s.DevicesSignOutPOST)
}

// signedInDevicesUser is the user this browser proved lately, if any.
func (s *Server) signedInDevicesUser(c *gin.Context) (store.User, bool) {
	id := sessionInt(c, devicesUserKey)
	if id == 0 || !s.hasProof(c, id) {
		return store.User{}, false
	}
	u, err := s.store.UserByID(c.Request.Context(), id)
	if err != nil {
		return store.User{}, false
	}
	return u, true
}

// devicesUser lets the signed-in part through only within the proof's
// ten minutes; after that the user proves a factor again.
func (s *Server) devicesUser(c *gin.Context) {
	u, ok := s.signedInDevicesUser(c)
	if !ok {
		s.redirect(c, devicesPath)
		return
	}
	c.Set("devices_user", u)
	c.Next()
}

func devicesUserOf(c *gin.Context) store.User { return c.MustGet("devices_user").(store.User) }

type devicesStartPage struct {
	Username string
	Error    string
}

// DevicesGET shows the user's devices, or asks who they are.
func (s *Server) DevicesGET(c *gin.Context) {
	u, ok := s.signedInDevicesUser(c)
	if !ok {
		s.render(c, http.StatusOK, viewDevicesStart, Page{Title: "Your devices", Help: helpDevices,
			Data: devicesStartPage{Username: sessionString(c, devicesNameKey)}})
		return
	}
	s.renderDevices(c, http.StatusOK, u, "", "")
}

// DevicesStartPOST takes the username. Whether it exists is never said:
// every username goes on to the proof step.
func (s *Server) DevicesStartPOST(c *gin.Context) {
	name := users.Normalize(strings.TrimSpace(c.PostForm("username")))
	if users.ValidateUsername(name) != nil {
		s.render(c, http.StatusUnprocessableEntity, viewDevicesStart, Page{Title: "Your devices", Help: helpDevices,
			Data: devicesStartPage{Username: c.PostForm("username"), Error: "Enter your username: letters, digits and . _ @ - + only."}})
		return
	}
	sess := session(c)
	delete(sess.Values, devicesUserKey)
	sess.Values[devicesNameKey] = name
	s.redirect(c, devicesPath+"/prove")
}

type devicesProvePage struct {
	Username string
	Error    string
	Notice   string
}

// ProveBase is where the proof's code form posts and its security-key
// steps hang (templates/_prove.html).
func (devicesProvePage) ProveBase() string { return devicesPath + "/prove" }

// SMSTo is "": the device page never says where, or whether, a text goes,
// since the username typed may not exist (templates/_prove.html).
func (devicesProvePage) SMSTo() string { return "" }

// DevicesProveGET asks for a code, or the security key.
func (s *Server) DevicesProveGET(c *gin.Context) {
	s.renderDevicesProve(c, http.StatusOK, "")
}

func (s *Server) renderDevicesProve(c *gin.Context, status int, msg string) {
	s.renderDevicesProvePage(c, status, devicesProvePage{Error: msg})
}

func (s *Server) renderDevicesProvePage(c *gin.Context, status int, p devicesProvePage) {
	name := sessionString(c, devicesNameKey)
	if name == "" {
		s.redirect(c, devicesPath)
		return
	}
	p.Username = name
	s.render(c, status, viewDevicesProve, Page{Title: "Confirm it's you", Help: helpDevices, Data: p})
}

// smsProofNotice is the one answer to "Text me a code" on the device page,
// whether a text went or not (an unknown username, no phone that takes
// texts, SMS not accepted, the send limit), so that the page never tells
// whether a username exists or what it holds.
const smsProofNotice = "If this account has a phone that takes texts, a 7-digit code is on its way to it: enter it above. It works once, for 5 minutes; at most 3 codes are sent in 15 minutes."

// DevicesProveSMSPOST texts a passcode to the typed username's phone, when
// it has one that takes texts, and answers the same whatever happened.
func (s *Server) DevicesProveSMSPOST(c *gin.Context) {
	name := sessionString(c, devicesNameKey)
	if name == "" {
		s.redirect(c, devicesPath)
		return
	}
	_, err := s.factors.SendSMSPasscodeByName(c.Request.Context(), name, s.who(c, name))
	var limit *factors.SMSLimitError
	if err != nil && !errors.As(err, &limit) && !errors.Is(err, factors.ErrNoSMSPhone) &&
		!errors.Is(err, factors.ErrSMSNotAccepted) && !errors.Is(err, factors.ErrSMSUserBlocked) {
		s.serverError(c, err)
		return
	}
	s.renderDevicesProvePage(c, http.StatusOK, devicesProvePage{Notice: smsProofNotice})
}

// DevicesProvePOST checks the code: an authenticator app's, a bypass
// code or a recovery code. Every failure gets the same sentence.
func (s *Server) DevicesProvePOST(c *gin.Context) {
	name := sessionString(c, devicesNameKey)
	if name == "" {
		s.redirect(c, devicesPath)
		return
	}
	code := verify.NormalizeCode(c.PostForm("code"))
	if !verify.ValidPasscodeShape(code) {
		s.renderDevicesProve(c, http.StatusUnprocessableEntity, "Enter the 6-digit code your authenticator app shows now, a 7-digit code we texted you, or a 9-digit bypass or recovery code.")
		return
	}
	u, err := s.enroll.ProveByName(c.Request.Context(), name, code, s.who(c, name))
	switch {
	case err == nil:
		s.devicesSignedIn(c, u)
		s.redirect(c, devicesPath)
	case errors.Is(err, enroll.ErrNotProved):
		s.renderDevicesProve(c, http.StatusUnprocessableEntity,
			"That did not work. Check the username and enter the newest code. After 10 wrong codes the account is locked; if it keeps failing, contact your help desk.")
	default:
		s.serverError(c, err)
	}
}

func (s *Server) devicesSignedIn(c *gin.Context, u store.User) {
	s.rememberProof(c, u.ID)
	session(c).Values[devicesUserKey] = u.ID
}

func devicesKeyBinding(name string) string { return "devices:" + name }

// DevicesKeyOptionsPOST starts a security-key proof for the typed username.
func (s *Server) DevicesKeyOptionsPOST(c *gin.Context) {
	name := sessionString(c, devicesNameKey)
	options, sealed, err := s.enroll.BeginKeyProofByName(c.Request.Context(), name, devicesKeyBinding(name))
	if name == "" || errors.Is(err, enroll.ErrKeyNotAccepted) {
		c.JSON(http.StatusConflict, gin.H{"error": "No security key can be used here for this username. Enter a code instead."})
		return
	}
	s.answerKeyProofOptions(c, options, sealed, err)
}

// DevicesKeyVerifyPOST checks the key's answer.
func (s *Server) DevicesKeyVerifyPOST(c *gin.Context) {
	name := sessionString(c, devicesNameKey)
	sealed, ok := s.takeKeyProof(c)
	if !ok {
		return
	}
	if name == "" {
		answerKeyExpired(c)
		return
	}
	u, err := s.enroll.ProveKeyByName(c.Request.Context(), name, sealed, devicesKeyBinding(name), c.Request.Body, s.who(c, name))
	if s.keyProofFailed(c, err) {
		return
	}
	s.devicesSignedIn(c, u)
	s.keyProofDone(c, devicesPath)
}

// deviceLine is one device as the device page lists it.
type deviceLine struct {
	Key    string // public id, for rename and remove; empty for tokens
	Kind   string
	Name   string
	Detail string
}

type devicesPage struct {
	User     store.User
	Devices  []deviceLine
	Recovery int
	Notice   string
	Error    string
}

func (s *Server) renderDevices(c *gin.Context, status int, u store.User, notice, errMsg string) {
	ctx := c.Request.Context()
	f, err := s.enroll.FactorsOf(ctx, u.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	sum, err := s.factors.BypassCodesOf(ctx, u.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	p := devicesPage{User: u, Recovery: sum.Recovery, Notice: notice, Error: errMsg}
	for _, ph := range f.Phones {
		if !ph.Activated {
			continue
		}
		kind, detail := "Mobile phone", ph.Platform
		if ph.Type == store.PhoneTablet {
			kind = "Tablet"
		} else if ph.Number != "" {
			detail += ", " + maskNumber(enroll.FormatNumber(ph.Number))
		}
		p.Devices = append(p.Devices, deviceLine{Key: ph.Key, Kind: kind, Name: ph.Name, Detail: detail})
	}
	for _, k := range f.SecurityKeys {
		p.Devices = append(p.Devices, deviceLine{Key: k.Key, Kind: "Security key", Name: k.Name})
	}
	for _, t := range f.HardwareTokens {
		p.Devices = append(p.Devices, deviceLine{Kind: "Hardware token", Detail: "serial " + t.Serial})
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, status, viewDevices, Page{Title: "Your devices", Help: helpDevices, Data: p})
}

// DevicesRenamePOST names a device.
func (s *Server) DevicesRenamePOST(c *gin.Context) {
	u := devicesUserOf(c)
	err := s.enroll.RenameDevice(c.Request.Context(), u, c.PostForm("device"), c.PostForm("name"), s.who(c, u.Username))
	switch {
	case err == nil:
		s.renderDevices(c, http.StatusOK, u, "The device was renamed.", "")
	case errors.Is(err, enroll.ErrInvalidDeviceName):
		s.renderDevices(c, http.StatusUnprocessableEntity, u, "", "A name can have at most 60 characters, without line breaks. Nothing was changed.")
	case errors.Is(err, enroll.ErrNoSuchDevice):
		s.renderDevices(c, http.StatusNotFound, u, "", "That device is no longer on your account.")
	default:
		s.serverError(c, err)
	}
}

// DevicesRemovePOST takes a device off the account.
func (s *Server) DevicesRemovePOST(c *gin.Context) {
	u := devicesUserOf(c)
	err := s.enroll.RemoveDevice(c.Request.Context(), u, c.PostForm("device"), s.who(c, u.Username))
	switch {
	case err == nil:
		s.notify.Wake()
		s.renderDevices(c, http.StatusOK, u, "The device was removed from your account. Its codes no longer work.", "")
	case errors.Is(err, enroll.ErrLastDevice):
		s.renderDevices(c, http.StatusConflict, u, "",
			"This is your only device, so it cannot be removed: add the new device first, then remove this one. If you lost it, ask your help desk for a reset.")
	case errors.Is(err, enroll.ErrNoSuchDevice):
		s.renderDevices(c, http.StatusNotFound, u, "", "That device is no longer on your account.")
	default:
		s.serverError(c, err)
	}
}

// DevicesAddPOST sends the user through the enrollment steps to add a
// device; this browser's proof satisfies the new-factor rule.
func (s *Server) DevicesAddPOST(c *gin.Context) {
	u := devicesUserOf(c)
	l, err := s.enroll.AddDeviceLink(c.Request.Context(), u, s.who(c, u.Username))
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.redirect(c, strings.TrimPrefix(l.URL, s.baseURL))
}

// DevicesRecoveryCodesPOST makes ten single-use recovery codes and shows
// them once.
func (s *Server) DevicesRecoveryCodesPOST(c *gin.Context) {
	u := devicesUserOf(c)
	codes, err := s.factors.CreateRecoveryCodes(c.Request.Context(), u, s.who(c, u.Username))
	if err != nil {
		s.serverError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, viewDevicesCodes, Page{Title: "Your recovery codes", Help: helpDevices,
		Data: struct {
			Codes []string
			Count int
		}{codes, factors.RecoveryCodes}})
}

// DevicesSignOutPOST ends the device page's session in this browser.
func (s *Server) DevicesSignOutPOST(c *gin.Context) {
	u := devicesUserOf(c)
	sess := session(c)
	delete(sess.Values, devicesUserKey)
	delete(sess.Values, proofKey(u.ID))
	s.redirect(c, devicesPath)
}
