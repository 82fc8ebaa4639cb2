package duo

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// The legacy REST v1 API that duo_unix 1.x (Debian's login_duo and
// pam_duo) speaks: form parameters in, BSON documents out; and the same
// calls without .bson, answering JSON, as Duo's v1 JSON clients call them.

// okREST answers doc in the envelope of the call's format.
func okREST(c *gin.Context, doc bson.D) {
	if formatOf(c) == formatBSON {
		okBSON(c, doc)
		return
	}
	okJSON(c, jsonOf(doc))
}

// jsonOf is a BSON document as a JSON object, embedded documents too.
func jsonOf(doc bson.D) map[string]any {
	out := make(map[string]any, len(doc))
	for _, e := range doc {
		if sub, ok := e.Value.(bson.D); ok {
			out[e.Key] = jsonOf(sub)
		} else {
			out[e.Key] = e.Value
		}
	}
	return out
}

// RESTPingGET answers /rest/v1/ping: unsigned, "pong".
func (a *API) RESTPingGET(c *gin.Context) { okJSON(c, "pong") }

// RESTCheckGET answers /rest/v1/check: the credentials work.
func (a *API) RESTCheckGET(c *gin.Context) { okJSON(c, "valid") }

// restLogin reads user and ipaddr.
func (a *API) restLogin(c *gin.Context) (login, bool) {
	p := paramsOf(c)
	app := appOf(c)
	l := login{app: app, username: p.Get("user"), ip: clientIP(c, p), hostname: p.Get("hostname"), who: who(c, app)}
	if l.username == "" {
		fail(c, formatOf(c), http.StatusBadRequest, codeBadRequest, "Missing required request parameters", "user")
		return l, false
	}
	if err := a.resolveUser(c, &l); err != nil {
		if errors.Is(err, errBadUsername) {
			fail(c, formatOf(c), http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "user")
		} else {
			a.internalError(c, formatOf(c), err)
		}
		return l, false
	}
	return l, true
}

// RESTPreauthPOST answers /rest/v1/preauth.bson. For every result but auth,
// login_duo prints status to the terminal as it is.
func (a *API) RESTPreauthPOST(c *gin.Context) {
	l, ok := a.restLogin(c)
	if !ok {
		return
	}
	out, err := a.preauth(c, l)
	if err != nil {
		a.internalError(c, formatOf(c), err)
		return
	}
	switch out.Result {
	case policy.ResultAuth:
		text, factors := menu(out.username, out.sms)
		// login_duo looks the typed answer up in factors: "1" becomes
		// "sms1", anything else (a passcode) is sent as typed.
		f := bson.D{{Key: "default", Value: factors["default"]}}
		for i := range out.sms {
			k := strconv.Itoa(i + 1)
			f = append(f, bson.E{Key: k, Value: factors[k]})
		}
		okREST(c, bson.D{
			{Key: "result", Value: "auth"},
			{Key: "prompt", Value: text},
			{Key: "factors", Value: f},
		})
	case policy.ResultEnroll:
		okREST(c, bson.D{{Key: "result", Value: "enroll"}, {Key: "status", Value: "Please enroll at " + out.enrollURL}})
	default:
		okREST(c, bson.D{{Key: "result", Value: out.Result}, {Key: "status", Value: out.Message}})
	}
}

// RESTAuthPOST answers /rest/v1/auth.bson: factor=auto with the typed
// passcode in auto. With async=1 the outcome is kept for status.bson.
func (a *API) RESTAuthPOST(c *gin.Context) {
	l, ok := a.restLogin(c)
	if !ok {
		return
	}
	p := paramsOf(c)
	factor := p.Get("factor")
	if factor != "auto" && factor != "passcode" && factor != "sms" {
		fail(c, formatOf(c), http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "factor")
		return
	}
	passcode := p.Get("auto")
	if passcode == "" {
		passcode = p.Get("passcode")
	}
	if passcode == "" {
		passcode = p.Get("code") // the JSON REST v1's factor=passcode
	}
	if ok, wait := a.allowPasscode(l); !ok {
		tooManyRequests(c, formatOf(c), wait)
		return
	}
	var out authOutcome
	var err error
	nth, sms := smsChoice(passcode) // the menu's "sms1"
	switch {
	case factor == "sms":
		// The JSON REST v1's factor=sms, with phone=phoneN or a device id.
		device := p.Get("device")
		nth = 1
		if n, ok := strings.CutPrefix(p.Get("phone"), "phone"); ok {
			nth, _ = strconv.Atoi(n)
		} else if p.Get("phone") != "" {
			device = p.Get("phone")
		}
		// A refused send is a deny that says why, never an HTTP error: a
		// terminal client would treat that as the server failing, and its
		// failmode could let the user in.
		out, _, err = a.sendSMS(c, l, device, nth)
	case sms:
		out, _, err = a.sendSMS(c, l, "", nth)
	default:
		out, err = a.authenticate(c, l, passcode)
	}
	if err != nil {
		a.internalError(c, formatOf(c), err)
		return
	}
	if p.Get("async") == "1" {
		txid, err := a.saveTransaction(c, l.app, out)
		if err != nil {
			a.internalError(c, formatOf(c), err)
			return
		}
		okREST(c, bson.D{{Key: "txid", Value: txid}})
		return
	}
	okREST(c, bson.D{{Key: "result", Value: out.Result}, {Key: "status", Value: out.StatusMsg}})
}

// RESTStatusGET answers /rest/v1/status.bson for an async auth. A passcode
// is decided at once, so the first poll has the result.
func (a *API) RESTStatusGET(c *gin.Context) {
	t, err := a.transaction(c, appOf(c), paramsOf(c).Get("txid"))
	if errors.Is(err, store.ErrNotFound) {
		fail(c, formatOf(c), http.StatusBadRequest, codeBadRequest, "Invalid request parameters", "txid")
		return
	}
	if err != nil {
		a.internalError(c, formatOf(c), err)
		return
	}
	okREST(c, bson.D{{Key: "result", Value: t.Result}, {Key: "status", Value: t.StatusMsg}})
}
