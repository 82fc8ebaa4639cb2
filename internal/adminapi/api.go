package adminapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/duo"
	"enrollportal/internal/enroll"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
	"enrollportal/internal/throttle"
	"enrollportal/internal/users"
)

// Paging of every list: Duo's default, and a maximum that keeps one page's
// answer small and fast (Duo allows 500 for users; 300 here for all).
const (
	DefaultLimit = 100
	MaxLimit     = 300
)

// Per-application rate limit: a burst for a script's loop, then a steady
// rate. Duo's clients wait and retry on 429 as Retry-After says.
const (
	RateBurst = 1000
	RateEvery = 10 * time.Millisecond
)

// Duo's error codes used here.
const (
	codeBadRequest      = 40002
	codeForbidden       = 40301
	codeNotFound        = 40401
	codeMethodNotAllow  = 40501
	codeTooManyRequests = 42901
	codeInternal        = 50001
	codeUnavailable     = 50301
)

// Store is what the Admin API reads of the database directly (its changes
// go through the services): the users, groups and phones it lists, the
// names its logs show, and the global policy whose methods decide
// is_enrolled.
type Store interface {
	store.PolicyQueries
	store.AdminQueries
	store.ApplicationQueries
	store.UserQueries
	store.GroupQueries
	store.GroupAdminQueries
	store.AdminAPIQueries
}

// Options are the services the Admin API calls.
type Options struct {
	Store  Store
	Clock  clock.Clock
	Log    *slog.Logger
	Apps   *apps.Service
	Users  *users.Service
	Enroll *enroll.Service
	// Factors issues, lists and deletes bypass codes and hardware tokens.
	Factors *factors.Service
	// BaseURL is the portal's public URL, for activation barcodes.
	BaseURL string
}

// API serves /admin/v1 and /admin/v2.
type API struct {
	store   Store
	clock   clock.Clock
	log     *slog.Logger
	apps    *apps.Service
	users   *users.Service
	enroll  *enroll.Service
	factors *factors.Service
	baseURL string
	limit   *throttle.Limiter
}

// New returns the Admin API.
func New(o Options) *API {
	return &API{store: o.Store, clock: o.Clock, log: o.Log, apps: o.Apps, users: o.Users, enroll: o.Enroll, factors: o.Factors,
		baseURL: strings.TrimRight(o.BaseURL, "/"), limit: throttle.New(o.Clock, RateBurst, RateEvery)}
}

// route is one endpoint: the grant it needs and the parameters it takes.
type route struct {
	method, path string
	grant        string
	params       []string
	handler      func(*call)
}

// Register adds the Admin API's routes to r, outside the session and CSRF
// middleware: every call is authenticated by its signature.
func (a *API) Register(r gin.IRouter) {
	for _, rt := range routeTable() {
		r.Handle(rt.method, rt.path, a.serve(rt))
	}
}

// Unmatched answers a request under /admin/v1/ or /admin/v2/ that matched
// no route (404) or method (405) in Duo's JSON error envelope.
func (a *API) Unmatched(c *gin.Context, status int) bool {
	path := c.Request.URL.Path
	if !strings.HasPrefix(path, "/admin/v1/") && !strings.HasPrefix(path, "/admin/v2/") {
		return false
	}
	if status == http.StatusMethodNotAllowed {
		duo.FailJSON(c, http.StatusMethodNotAllowed, codeMethodNotAllow, "Method not allowed", "")
	} else {
		duo.FailJSON(c, http.StatusNotFound, codeNotFound, "Resource not found", "")
	}
	return true
}

// call is one verified request being answered.
type call struct {
	a      *API
	c      *gin.Context
	app    store.Application
	params url.Values
	// failed is set once an answer (an error) was written.
	failed bool
}

func (k *call) ctx() context.Context { return k.c.Request.Context() }

// who is the audit actor: the application, from the caller's address.
func (k *call) who() audit.Who {
	return audit.Who{Type: audit.ActorApplication, Name: k.app.Name + " (" + k.app.Key + ")", IP: k.c.ClientIP()}
}

// serve checks the signature, the application's kind, grant and rate
// limit, and the parameters' names, then runs the handler. A request
// refused at any step changes nothing.
func (a *API) serve(rt route) gin.HandlerFunc {
	return func(c *gin.Context) {
		signed, rej, err := duo.VerifyCall(c, a.apps, a.clock.Now(), duo.VerifyOptions{
			MaxBody: MaxBulkUsersLength + duo.MaxBodyBytes, LongParams: []string{"users"}})
		if err != nil {
			a.internalError(c, err)
			return
		}
		if rej != nil {
			duo.FailJSON(c, rej.Status, rej.Code, rej.Message, rej.Detail)
			return
		}
		if signed.App.Kind != store.AppAdminAPI {
			duo.FailJSON(c, http.StatusForbidden, codeForbidden, "Access forbidden", "only admin-api applications may call the Admin API")
			return
		}
		if !slices.Contains(signed.App.AdminGrants, rt.grant) {
			duo.FailJSON(c, http.StatusForbidden, codeForbidden, "Access forbidden",
				"this application lacks the "+rt.grant+" grant")
			return
		}
		if !a.limit.Allow(signed.App.Key) {
			c.Header("Retry-After", strconv.Itoa(int(a.limit.RetryAfter()/time.Second)))
			duo.FailJSON(c, http.StatusTooManyRequests, codeTooManyRequests, "Too many requests", "")
			return
		}
		for name := range signed.Params {
			if !slices.Contains(rt.params, name) {
				duo.FailJSON(c, http.StatusBadRequest, codeBadRequest, "Invalid request parameters",
					"unknown parameter "+strconv.Quote(name))
				return
			}
		}
		rt.handler(&call{a: a, c: c, app: signed.App, params: signed.Params})
		if c.Writer.Status() < http.StatusBadRequest {
			a.apps.Used(signed.App)
		}
	}
}

// internalError logs the cause and answers without it.
func (a *API) internalError(c *gin.Context, err error) {
	if store.Busy(err) {
		a.log.Warn("admin api: database busy", "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", "1")
		duo.FailJSON(c, http.StatusServiceUnavailable, codeUnavailable, "Service temporarily unavailable", "")
		return
	}
	a.log.Error("admin api", "path", c.Request.URL.Path, "err", err)
	duo.FailJSON(c, http.StatusInternalServerError, codeInternal, "Internal server error", "")
}

// ok answers {"stat":"OK","response":v}.
func (k *call) ok(v any) {
	duo.WriteJSON(k.c, http.StatusOK, map[string]any{"stat": "OK", "response": v})
}

// okPage answers a page of a list with Duo's metadata: next_offset is left
// out on the last page (clients loop until it is missing), prev_offset
// only when the page is not the first.
func (k *call) okPage(v any, pg page, total int) {
	meta := map[string]any{"total_objects": total}
	if pg.offset+pg.limit < total {
		meta["next_offset"] = pg.offset + pg.limit
	}
	if pg.offset > 0 {
		meta["prev_offset"] = max(0, pg.offset-pg.limit)
	}
	duo.WriteJSON(k.c, http.StatusOK, map[string]any{"stat": "OK", "response": v, "metadata": meta})
}

// bad answers 40002 with a detail the caller can act on.
func (k *call) bad(detail string) {
	if k.failed {
		return
	}
	k.failed = true
	duo.FailJSON(k.c, http.StatusBadRequest, codeBadRequest, "Invalid request parameters", detail)
}

// notFound answers 40401.
func (k *call) notFound(what string) {
	k.failed = true
	duo.FailJSON(k.c, http.StatusNotFound, codeNotFound, "Resource not found", what+" not found")
}

// answerChange answers a change made by a service: OK with an empty
// response when err is nil, 40401 for what when err is missing (the object
// is not there), and otherwise as fail does.
func (k *call) answerChange(err, missing error, what string) {
	switch {
	case err == nil:
		k.ok("")
	case errors.Is(err, missing):
		k.notFound(what)
	default:
		k.fail(err)
	}
}

// fail answers an error from a service: a sentence of the domain becomes
// 40002 with that sentence; anything else is the portal's own failure.
func (k *call) fail(err error) {
	if detail, ok := userFacing(err); ok {
		k.bad(detail)
		return
	}
	k.failed = true
	k.a.internalError(k.c, err)
}

// userFacing tells whether err is a sentence written for the caller, and
// gives it without the package prefix some errors carry.
func userFacing(err error) (string, bool) {
	var pe *users.ProfileError
	if errors.As(err, &pe) {
		if d, ok := userFacing(pe.Err); ok {
			return "users[" + strconv.Itoa(pe.Index) + "]: " + d, true
		}
		return "", false
	}
	for _, known := range []error{
		users.ErrInvalidUsername, users.ErrInvalidEmail, users.ErrUsernameTaken, users.ErrTooLong,
		users.ErrRealNameTooLong, users.ErrNotesTooLong, users.ErrAliasInvalid, users.ErrAliasTaken,
		users.ErrNameTooLong, users.ErrStatusValue, users.ErrTooMany, users.ErrGroupName,
		users.ErrGroupDescription, users.ErrGroupNameTaken,
		enroll.ErrEmailMismatch, enroll.ErrNoEmail, enroll.ErrInvalidTTL,
		enroll.ErrInvalidPhoneType, enroll.ErrInvalidPlatform, enroll.ErrInvalidPhoneName, enroll.ErrTabletNumber,
		enroll.ErrNotActivatable, enroll.ErrPhoneHasNoUser, enroll.ErrNumberTaken, enroll.ErrInvalidDelay,
		enroll.ErrNoNumber, enroll.ErrNotMobile,
	} {
		if errors.Is(err, known) {
			return strings.TrimPrefix(known.Error(), "enroll: "), true
		}
	}
	if errors.Is(err, enroll.ErrInvalidNumber) {
		return "number is not a valid phone number: give it in E.164 (+ and the country code), or as a US number", true
	}
	var tokenProblem *factors.TokenProblemError
	if errors.As(err, &tokenProblem) {
		return tokenProblem.Problem, true
	}
	for known, sentence := range map[error]string{
		factors.ErrTokenAssigned: "the token belongs to another user; remove it from them first",
		factors.ErrResyncFailed:  "code1, code2 and code3 are not three consecutive codes of the token",
		factors.ErrResyncTOTP:    "a time-based (t6 or t8) token needs no resync",
	} {
		if errors.Is(err, known) {
			return sentence, true
		}
	}
	var pending *enroll.ActivationPendingError
	if errors.As(err, &pending) {
		return "an activation link sent to this phone works until " + pending.Until.UTC().Format(time.RFC3339) +
			"; another may be sent once it expires", true
	}
	var invalidText *enroll.InvalidTextError
	if errors.As(err, &invalidText) {
		return strings.Join(invalidText.Problems, " "), true
	}
	if text, ok := textProblem(err); ok {
		return text, true
	}
	return "", false
}
