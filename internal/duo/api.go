package duo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/throttle"
	"enrollportal/internal/verify"
)

// Store is what the Duo-compatible APIs use of the database directly (the
// rest goes through the services): users by key, async transactions, the
// logo setting, and what a passcode check reads and writes.
type Store interface {
	store.Transactor
	store.UserQueries
	store.AuthTransactionQueries
	store.SettingQueries
	verify.PasscodeStore
}

// Options are the dependencies of the Duo-compatible APIs.
type Options struct {
	Store  Store
	Clock  clock.Clock
	Log    *slog.Logger
	Apps   *apps.Service
	Policy *policy.Service
	Enroll *enroll.Service
	// Factors issues the bypass codes /auth/v2/enroll may ask for, and
	// texts SMS passcodes.
	Factors *factors.Service
}

// API serves the Duo-compatible endpoints.
type API struct {
	store   Store
	clock   clock.Clock
	log     *slog.Logger
	apps    *apps.Service
	policy  *policy.Service
	enroll  *enroll.Service
	factors *factors.Service
	// passcodeTries limits passcode guesses per end-user address (the
	// ipaddr a host passes on, else the caller's), on top of the per-user
	// lockout: a guesser spreading attempts over many users is slowed too,
	// while a bastion host logging in many people is not. ipaddr is what a
	// host with valid credentials says, so such a host could spread its
	// guesses over made-up addresses: userPasscodeTries limits them per
	// application and username as well, whatever address they name.
	passcodeTries     *throttle.Limiter
	userPasscodeTries *throttle.Limiter
}

// New returns the API.
func New(o Options) *API {
	return &API{
		store: o.Store, clock: o.Clock, log: o.Log, apps: o.Apps, policy: o.Policy, enroll: o.Enroll, factors: o.Factors,
		passcodeTries: throttle.New(o.Clock, 30, 2*time.Second),
		// A person types a few codes a minute at most; 20 at once is well
		// past the lockout's 10, so only a script meets this limit.
		userPasscodeTries: throttle.New(o.Clock, 20, 3*time.Second),
	}
}

// Register adds the API routes to r. They sit outside the browser session
// and CSRF middleware: every call is authenticated by its signature.
func (a *API) Register(r gin.IRouter) {
	v2 := r.Group("/auth/v2", WithLoginDeadline)
	v2.GET("/ping", a.PingGET)
	signedV2 := v2.Group("", a.signed(formatJSON, store.AppAuthAPI, store.AppUnix))
	signedV2.GET("/check", a.CheckGET)
	signedV2.POST("/preauth", a.PreauthPOST)
	signedV2.POST("/auth", a.AuthPOST)
	signedV2.GET("/auth_status", a.AuthStatusGET)
	signedV2.POST("/enroll", a.EnrollPOST)
	signedV2.POST("/enroll_status", a.EnrollStatusPOST)

	signedV2.GET("/logo", a.LogoGET)

	v1 := r.Group("/rest/v1", WithLoginDeadline, a.signed(formatBSON, store.AppUnix, store.AppAuthAPI))
	v1.POST("/preauth.bson", a.RESTPreauthPOST)
	v1.POST("/auth.bson", a.RESTAuthPOST)
	v1.GET("/status.bson", a.RESTStatusGET)
	// The same calls in JSON, from the same handlers.
	r.GET("/rest/v1/ping", a.RESTPingGET)
	v1JSON := r.Group("/rest/v1", WithLoginDeadline, a.signed(formatRESTJSON, store.AppUnix, store.AppAuthAPI))
	v1JSON.GET("/check", a.RESTCheckGET)
	v1JSON.GET("/logo", a.LogoGET)
	v1JSON.POST("/preauth", a.RESTPreauthPOST)
	v1JSON.POST("/auth", a.RESTAuthPOST)
	v1JSON.GET("/status", a.RESTStatusGET)
}

// Unmatched answers requests under /auth/v2/ and /rest/v1/ that matched no
// route (404) or no method (405) in the family's envelope.
func (a *API) Unmatched(c *gin.Context, status int) bool {
	var f format
	switch path := c.Request.URL.Path; {
	case strings.HasPrefix(path, "/auth/v2/"):
		f = formatJSON
	case strings.HasPrefix(path, "/rest/v1/") && strings.HasSuffix(path, ".bson"):
		f = formatBSON
	case strings.HasPrefix(path, "/rest/v1/"):
		f = formatRESTJSON
	default:
		return false
	}
	if status == http.StatusMethodNotAllowed {
		fail(c, f, status, codeMethodNotAllowed, "Method not allowed", "")
	} else {
		fail(c, f, http.StatusNotFound, codeNotFound, "Resource not found", "")
	}
	return true
}

// format is the wire format of an endpoint family's answers.
type format int

const (
	formatJSON     format = iota // Auth API v2
	formatBSON                   // REST v1 (.bson)
	formatRESTJSON               // REST v1 in JSON: the JSON envelope, v1 signatures allowed
)

// Duo's error codes.
const (
	codeBadRequest       = 40002 // invalid or missing parameters
	codeMissingAuth      = 40101 // no or malformed Authorization
	codeBadIkey          = 40102 // unknown integration key
	codeBadSignature     = 40103 // signature does not match
	codeBadDate          = 40105 // Date missing, malformed or too far off
	codeForbidden        = 40301 // this application may not call this API
	codeNotFound         = 40401
	codeMethodNotAllowed = 40501
	codeTooLarge         = 41301
	codeTooManyRequests  = 42901
	codeInternal         = 50001
	codeUnavailable      = 50301 // the database did not answer in time
)

// fail answers in the Duo error envelope of the endpoint's format.
func fail(c *gin.Context, f format, status, code int, message, detail string) {
	if f != formatBSON {
		FailJSON(c, status, code, message, detail)
		return
	}
	doc := bson.D{{Key: "stat", Value: "FAIL"}, {Key: "code", Value: int32(code)}, {Key: "message", Value: message}}
	if detail != "" {
		doc = append(doc, bson.E{Key: "message_detail", Value: detail})
	}
	writeBSON(c, status, doc)
	c.Abort()
}

// FailJSON answers Duo's JSON error envelope and stops the handlers that
// would follow: the envelope of Auth API v2, of REST v1 in JSON and of the
// Admin API (package adminapi).
func FailJSON(c *gin.Context, status, code int, message, detail string) {
	body := map[string]any{"stat": "FAIL", "code": code, "message": message}
	if detail != "" {
		body["message_detail"] = detail
	}
	WriteJSON(c, status, body)
	c.Abort()
}

// WriteJSON answers v in JSON with status.
func WriteJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/json", b)
}

func writeBSON(c *gin.Context, status int, doc bson.D) {
	b, err := bson.Marshal(doc)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/bson", b)
}

// okJSON answers {"stat":"OK","response":v}.
func okJSON(c *gin.Context, v any) {
	WriteJSON(c, http.StatusOK, okEnvelope{Response: v, Stat: "OK"})
}

// okEnvelope is Duo's success envelope, in a map's key order.
type okEnvelope struct {
	Response any    `json:"response"`
	Stat     string `json:"stat"`
}

// okBSON answers {stat: OK, response: doc}.
func okBSON(c *gin.Context, doc bson.D) {
	writeBSON(c, http.StatusOK, bson.D{{Key: "stat", Value: "OK"}, {Key: "response", Value: doc}})
}

// LoginDeadline bounds each wait of a login call for the database's write
// lock: with the database write-locked from outside (or writes queued
// behind a long transaction), the client gets Duo's error in time to apply
// its failmode instead of hanging until its own timeout. Reads never wait
// for the lock (WAL), and time spent computing does not count, so an
// overloaded machine slows logins down rather than refusing them.
const LoginDeadline = 1500 * time.Millisecond

// WithLoginDeadline bounds the request's waits for the write lock to
// LoginDeadline; the Universal Prompt's pages use it too.
func WithLoginDeadline(c *gin.Context) {
	c.Request = c.Request.WithContext(store.WithLockWait(c.Request.Context(), LoginDeadline))
	c.Next()
}

// internalError logs the cause and answers without it: 503 with
// Retry-After when the database did not answer before the login deadline,
// 500 otherwise, in the family's error envelope.
func (a *API) internalError(c *gin.Context, f format, err error) {
	if store.Busy(err) {
		a.log.Warn("duo api: database busy", "route", c.FullPath(), "err", err)
		c.Header("Retry-After", "1")
		fail(c, f, http.StatusServiceUnavailable, codeUnavailable, "Service temporarily unavailable", "")
		return
	}
	a.log.Error("duo api", "route", c.FullPath(), "err", err)
	fail(c, f, http.StatusInternalServerError, codeInternal, "Internal server error", "")
}

// Context keys set by signed.
const (
	keyApp    = "duo.app"
	keyParams = "duo.params"
	keyFormat = "duo.format"
)

// formatOf is the wire format of the call being answered.
func formatOf(c *gin.Context) format { return c.MustGet(keyFormat).(format) }

// signed reads and bounds the request, checks its signature against the
// secret key of the calling application, which must be of one of kinds,
// and stores the application and the parameters for the handler. A request
// that fails any check changes nothing.
func (a *API) signed(f format, kinds ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		// v1 signatures carry no date, so they could be replayed: only the
		// legacy REST v1 that needs them takes them.
		call, rej, err := VerifyCall(c, a.apps, a.clock.Now(), VerifyOptions{AllowV1: f != formatJSON})
		if err != nil {
			a.internalError(c, f, err)
			return
		}
		if rej == nil && !slices.Contains(kinds, call.App.Kind) {
			rej = &Rejection{http.StatusForbidden, codeForbidden, "Access forbidden", "this integration may not call this API"}
		}
		if rej != nil {
			fail(c, f, rej.Status, rej.Code, rej.Message, rej.Detail)
			return
		}
		c.Set(keyApp, call.App)
		c.Set(keyParams, call.Params)
		c.Set(keyFormat, f)
		c.Next()
		if c.Writer.Status() < http.StatusBadRequest {
			a.apps.Used(call.App)
		}
	}
}

// Rejection is why a signed call was refused, as Duo answers it: the HTTP
// status, Duo's code, the message and its detail.
type Rejection struct {
	Status, Code    int
	Message, Detail string
}

// SignedCall is a call whose signature checked out.
type SignedCall struct {
	App    store.Application
	Params url.Values
	// Version is the signature's version (SigV1, SigV2 or SigV5).
	Version int
}

// VerifyOptions adjust what VerifyCall accepts.
type VerifyOptions struct {
	// AllowV1 admits the dateless v1 signatures.
	AllowV1 bool
	// MaxBody bounds the body; MaxBodyBytes when zero.
	MaxBody int64
	// LongParams may be as long as the body rather than MaxParamLength.
	LongParams []string
}

// VerifyCall reads c's request body and parameters and checks the
// request's signature against the secret key of the application it names.
// A refusal comes back as a Rejection; err is a failure of the portal
// itself (the database). Nothing is written either way.
func VerifyCall(c *gin.Context, as *apps.Service, now time.Time, o VerifyOptions) (SignedCall, *Rejection, error) {
	if o.MaxBody == 0 {
		o.MaxBody = MaxBodyBytes
	}
	badRequest := func(detail string) *Rejection {
		return &Rejection{http.StatusBadRequest, codeBadRequest, "Invalid request parameters", detail}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, o.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return SignedCall{}, &Rejection{http.StatusRequestEntityTooLarge, codeTooLarge, "Request entity too large", ""}, nil
		}
		return SignedCall{}, badRequest("the body could not be read"), nil
	}
	sr, err := readSignedRequest(c.Request, body, o.LongParams)
	if err != nil {
		return SignedCall{}, badRequest(problemDetail(err)), nil
	}
	ikey, sig, ok := ParseAuthorization(c.GetHeader("Authorization"))
	if !ok {
		return SignedCall{}, &Rejection{http.StatusUnauthorized, codeMissingAuth, "Missing request credentials", ""}, nil
	}
	app, err := as.ByClientID(c.Request.Context(), ikey)
	if errors.Is(err, apps.ErrNotFound) {
		return SignedCall{}, &Rejection{http.StatusUnauthorized, codeBadIkey, "Invalid integration key in request credentials", ""}, nil
	}
	if err != nil {
		return SignedCall{}, nil, err
	}
	skey, err := as.Secret(app)
	if err != nil {
		return SignedCall{}, nil, err
	}
	if len(sig) == 128 && !dateWithin(sr.Date, now) {
		return SignedCall{}, &Rejection{http.StatusUnauthorized, codeBadDate, "Invalid request date",
			"the Date header must be present and within 300 seconds of the server's clock"}, nil
	}
	version, ok := VerifySignature(sr, skey, sig, now)
	if !ok || (version == SigV1 && !o.AllowV1) {
		return SignedCall{}, &Rejection{http.StatusUnauthorized, codeBadSignature, "Invalid signature in request credentials", ""}, nil
	}
	return SignedCall{App: app, Params: sr.Params, Version: version}, nil, nil
}

func appOf(c *gin.Context) store.Application { return c.MustGet(keyApp).(store.Application) }

func paramsOf(c *gin.Context) url.Values { return c.MustGet(keyParams).(url.Values) }

// clientIP is the end user's address: the ipaddr a host passes on for the
// person logging in, else the caller's own address.
func clientIP(c *gin.Context, p url.Values) net.IP {
	if ip := net.ParseIP(p.Get("ipaddr")); ip != nil {
		return ip
	}
	return net.ParseIP(c.ClientIP())
}

// who is the audit actor of an API call: the application, from the caller's
// address.
func who(c *gin.Context, app store.Application) audit.Who {
	return audit.Who{Type: audit.ActorApplication, Name: app.Name + " (" + app.Key + ")", IP: c.ClientIP()}
}

// tooManyRequests answers 429 with Retry-After, which Duo's clients honour.
func tooManyRequests(c *gin.Context, f format, retry time.Duration) {
	c.Header("Retry-After", strconv.Itoa(int(retry/time.Second)))
	fail(c, f, http.StatusTooManyRequests, codeTooManyRequests, "Too many requests", "")
}

// ctxOf returns the request's context.
func ctxOf(c *gin.Context) context.Context { return c.Request.Context() }
