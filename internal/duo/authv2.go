package duo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	_ "image/jpeg" // logos may be uploaded as JPEG
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/org"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// PingGET answers /auth/v2/ping: unsigned, the server's time.
func (a *API) PingGET(c *gin.Context) {
	okJSON(c, map[string]any{"time": a.clock.Now().Unix()})
}

// CheckGET answers /auth/v2/check: the credentials work.
func (a *API) CheckGET(c *gin.Context) {
	okJSON(c, map[string]any{"time": a.clock.Now().Unix()})
}

// loginFromParams reads username or user_id (exactly one) and ipaddr.
func (a *API) loginFromParams(c *gin.Context) (login, bool) {
	p := paramsOf(c)
	app := appOf(c)
	l := login{app: app, username: p.Get("username"), userKey: p.Get("user_id"), ip: clientIP(c, p),
		hostname: p.Get("hostname"), who: who(c, app)}
	if (l.username == "") == (l.userKey == "") {
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "give exactly one of username and user_id")
		return l, false
	}
	if err := a.resolveUser(c, &l); err != nil {
		switch {
		case errors.Is(err, errUnknownUserID):
			fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "user_id names no user")
		case errors.Is(err, errBadUsername):
			fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "username is not a valid username")
		default:
			a.internalError(c, formatJSON, err)
		}
		return l, false
	}
	return l, true
}

// PreauthPOST answers /auth/v2/preauth.
func (a *API) PreauthPOST(c *gin.Context) {
	l, ok := a.loginFromParams(c)
	if !ok {
		return
	}
	out, err := a.preauth(c, l)
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	resp := preauthAnswer{Result: out.Result, StatusMsg: out.Message}
	switch out.Result {
	case policy.ResultEnroll:
		resp.EnrollPortalURL = out.enrollURL
		resp.StatusMsg = "Enroll an authentication device to proceed: " + out.enrollURL
	case policy.ResultAuth:
		devices := make([]preauthDevice, 0, len(out.phones))
		for _, ph := range out.phones {
			capabilities := []string{"mobile_otp"}
			if slices.ContainsFunc(out.sms, func(s store.Phone) bool { return s.ID == ph.ID }) {
				capabilities = append(capabilities, "sms")
			}
			devices = append(devices, preauthDevice{
				Device: ph.Key, Type: "phone", Name: ph.Name, Number: ph.Number,
				DisplayName: enroll.PhoneLabel(ph), Capabilities: capabilities,
			})
		}
		resp.Devices = &devices
		resp.StatusMsg = "Account is active"
	}
	if paramsOf(c).Get("text_prompt") == "1" {
		text := out.Message
		factors := map[string]string{}
		switch out.Result {
		case policy.ResultEnroll:
			text = "Please enroll at " + out.enrollURL
		case policy.ResultAuth:
			text, factors = menu(out.username, out.sms)
		}
		resp.Prompt = &textPrompt{Factors: factors, Text: text}
	}
	okJSON(c, resp)
}

// preauthAnswer is /auth/v2/preauth's response. A struct rather than a
// map, as every login encodes one (bench/duo); the fields keep the
// alphabetical order a map had.
type preauthAnswer struct {
	Devices         *[]preauthDevice `json:"devices,omitempty"` // only with result auth, then even when empty
	EnrollPortalURL string           `json:"enroll_portal_url,omitempty"`
	Prompt          *textPrompt      `json:"prompt,omitempty"`
	Result          string           `json:"result"`
	StatusMsg       string           `json:"status_msg"`
}

// preauthDevice is one device of a preauth answer.
type preauthDevice struct {
	Capabilities []string `json:"capabilities"`
	Device       string   `json:"device"`
	DisplayName  string   `json:"display_name"`
	Name         string   `json:"name"`
	Number       string   `json:"number"`
	Type         string   `json:"type"`
}

// textPrompt is the menu of a text_prompt=1 preauth.
type textPrompt struct {
	Factors map[string]string `json:"factors"`
	Text    string            `json:"text"`
}

// passcodePrompt is the menu shown by terminal clients: only passcodes, as
// the portal sends no pushes or calls.
func passcodePrompt(username string) string {
	return "Two-factor login for " + username + "\n\nEnter the passcode from your authenticator app: "
}

// AuthPOST answers /auth/v2/auth. Factors: passcode (with passcode); sms
// (with device, a phone's id or auto), which texts a passcode and answers
// Duo's deny with status "sent"; prompt (duo_unix 2.x: the menu's answer,
// an option such as sms1 or a typed passcode); and auto, which here means
// a passcode when one is given: the portal sends no pushes or calls.
func (a *API) AuthPOST(c *gin.Context) {
	l, ok := a.loginFromParams(c)
	if !ok {
		return
	}
	p := paramsOf(c)
	factor := p.Get("factor")
	passcode := p.Get("passcode")
	device, nth := p.Get("device"), 1
	switch factor {
	case "passcode", "auto", "sms":
	case "prompt":
		if n, ok := smsChoice(p.Get("prompt")); ok {
			factor, nth = "sms", n
		} else {
			passcode = p.Get("prompt")
		}
	case "push", "phone":
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters",
			"factor "+factor+" is not offered by this server; use passcode or sms")
		return
	default:
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "factor must be passcode, sms, prompt or auto")
		return
	}
	if factor == "sms" {
		a.authSMS(c, l, device, nth)
		return
	}
	if factor == "passcode" && passcode == "" {
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "passcode is required with factor=passcode")
		return
	}
	if passcode != "" {
		if ok, wait := a.allowPasscode(l); !ok {
			tooManyRequests(c, formatJSON, wait)
			return
		}
	}
	out, err := a.authenticate(c, l, passcode)
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	a.answerAuth(c, l, out)
}

// authSMS answers an auth call with factor sms: Duo's deny with status
// "sent" once the text is in the outbox, or 429 with Retry-After while the
// phone has had its texts for now.
func (a *API) authSMS(c *gin.Context, l login, device string, nth int) {
	if ok, wait := a.allowPasscode(l); !ok {
		tooManyRequests(c, formatJSON, wait)
		return
	}
	out, retry, err := a.sendSMS(c, l, device, nth)
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	if retry > 0 {
		c.Header("Retry-After", retryAfterSeconds(retry))
		fail(c, formatJSON, http.StatusTooManyRequests, codeTooManyRequests, "Too many requests", out.StatusMsg)
		return
	}
	a.answerAuth(c, l, out)
}

// answerAuth answers an auth outcome, or keeps it for auth_status when the
// call was async.
func (a *API) answerAuth(c *gin.Context, l login, out authOutcome) {
	if paramsOf(c).Get("async") == "1" {
		txid, err := a.saveTransaction(c, l.app, out)
		if err != nil {
			a.internalError(c, formatJSON, err)
			return
		}
		okJSON(c, map[string]any{"txid": txid})
		return
	}
	okJSON(c, map[string]any{"result": out.Result, "status": out.Status, "status_msg": out.StatusMsg})
}

// AuthStatusGET answers /auth/v2/auth_status for an async auth.
func (a *API) AuthStatusGET(c *gin.Context) {
	t, err := a.transaction(c, appOf(c), paramsOf(c).Get("txid"))
	if errors.Is(err, store.ErrNotFound) {
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "txid is unknown or expired")
		return
	}
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	okJSON(c, map[string]any{"result": t.Result, "status": t.Status, "status_msg": t.StatusMsg})
}

// Enrollment through the Auth API: defaults as Duo's.
const (
	defaultEnrollValidSecs = 86400
	maxEnrollValidSecs     = 30 * 86400
)

// EnrollPOST answers /auth/v2/enroll: it creates a user (named, or with a
// generated name) and an enrollment link for them. activation_code is the
// link; activation_barcode a QR code of it, as a data: URL.
func (a *API) EnrollPOST(c *gin.Context) {
	p := paramsOf(c)
	app := appOf(c)
	// bypass_codes asks for that many codes for the new user, each good
	// once and never expiring (the Admin API's defaults): backup codes for
	// when their device is not at hand. A bad value is refused, never
	// ignored.
	bypassCount := 0
	if v, ok := p["bypass_codes"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > factors.MaxBypassCodes {
			fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters",
				"bypass_codes must be a whole number from 0 to "+strconv.Itoa(factors.MaxBypassCodes))
			return
		}
		bypassCount = n
	}
	validSecs := defaultEnrollValidSecs
	if v := p.Get("valid_secs"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > maxEnrollValidSecs {
			fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters",
				"valid_secs must be a number of seconds from 1 to 2592000")
			return
		}
		validSecs = n
	}
	username := p.Get("username")
	if username == "" {
		username = "user-" + strings.ToLower(secret.NewKey(10))
	}
	username = policy.NormalizeUsername(app, username)
	ctx := ctxOf(c)
	w := who(c, app)
	ttl := time.Duration(validSecs) * time.Second
	var link enroll.IssuedLink
	codes := []string{}
	err := a.store.InTx(ctx, func(q store.Queries) error {
		u, err := users.Prepare(users.NewUser{Username: username}, a.clock.Now())
		if err != nil {
			return err
		}
		if err := users.Insert(ctx, q, &u, w); err != nil {
			return err
		}
		if link, err = a.enroll.IssueLinkTx(ctx, q, u, ttl, w); err != nil || bypassCount == 0 {
			return err
		}
		codes, err = a.factors.IssueBypassCodesTx(ctx, q, u, factors.BypassOptions{Count: bypassCount, Uses: 1}, w)
		return err
	})
	switch {
	case errors.Is(err, users.ErrUsernameTaken):
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "username already exists")
		return
	case errors.Is(err, users.ErrInvalidUsername):
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "username is not a valid username")
		return
	case err != nil:
		a.internalError(c, formatJSON, err)
		return
	}
	png, err := qrcode.Encode(link.URL, qrcode.Medium, -5)
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	okJSON(c, map[string]any{
		"activation_barcode": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		"activation_code":    link.URL,
		"user_id":            link.User.Key,
		"username":           link.User.Username,
		"expiration":         link.Link.ExpiresAt.Unix(),
		"valid_secs":         validSecs,
		"bypass_codes":       codes,
	})
}

// EnrollStatusPOST answers /auth/v2/enroll_status: "success" once the user
// has enrolled, "waiting" while the link is pending, "invalid" otherwise.
func (a *API) EnrollStatusPOST(c *gin.Context) {
	p := paramsOf(c)
	userKey, code := p.Get("user_id"), p.Get("activation_code")
	if userKey == "" || code == "" {
		fail(c, formatJSON, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "user_id and activation_code are required")
		return
	}
	token := code
	if u, err := url.Parse(code); err == nil && strings.HasPrefix(u.Path, "/enroll/") {
		token = strings.TrimPrefix(u.Path, "/enroll/")
	}
	ctx := ctxOf(c)
	_, u, err := a.enroll.OpenLink(ctx, token)
	status := "invalid"
	switch {
	case errors.Is(err, enroll.ErrLinkNotFound):
	case err != nil && !errors.Is(err, enroll.ErrLinkUsed) && !errors.Is(err, enroll.ErrLinkExpired) && !errors.Is(err, enroll.ErrLinkRevoked):
		a.internalError(c, formatJSON, err)
		return
	case u.Key != userKey:
	default:
		enrolled, ferr := a.policy.Enrolled(ctx, u.ID)
		if ferr != nil {
			a.internalError(c, formatJSON, ferr)
			return
		}
		switch {
		case enrolled:
			status = "success"
		case err == nil:
			status = "waiting"
		}
	}
	okJSON(c, status)
}

// LogoGET answers /auth/v2/logo (and /rest/v1/logo): the organisation's
// logo as a PNG, as Duo's clients expect, or Duo's 40401 in JSON when no
// logo is set. A JPEG logo is converted.
func (a *API) LogoGET(c *gin.Context) {
	logo, err := org.LoadLogo(ctxOf(c), a.store)
	if err != nil {
		a.internalError(c, formatJSON, err)
		return
	}
	if logo == nil {
		fail(c, formatJSON, http.StatusNotFound, codeNotFound, "Resource not found", "no logo is set")
		return
	}
	data := logo.Data
	if logo.Type != "image/png" {
		img, _, err := image.Decode(bytes.NewReader(logo.Data))
		if err != nil {
			a.internalError(c, formatJSON, err)
			return
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			a.internalError(c, formatJSON, err)
			return
		}
		data = buf.Bytes()
	}
	c.Data(http.StatusOK, "image/png", data)
}
