package duo

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/prompt"
	"enrollportal/internal/store"
	"enrollportal/internal/throttle"
)

// OAuth speaks the Universal Prompt's endpoints (health_check, authorize,
// token) and translates them to calls on prompt.Service. The token and
// health_check endpoints authenticate the client by its signed assertion;
// authorize answers a browser, so its errors are pages and its success a
// redirect to the prompt.
type OAuth struct {
	Prompt *prompt.Service
	Log    *slog.Logger
	// ShowError renders the portal's error page, for authorize requests
	// that cannot be sent back to the application.
	ShowError func(c *gin.Context, status int, heading, message, next string)
	// PromptPath is the local address of the prompt for a transaction token.
	PromptPath func(token string) string
	// Authorizations limits authorize requests per client IP, so that a
	// replayed authorize URL cannot fill the transaction table.
	Authorizations *throttle.Limiter
}

// maxOAuthBody bounds the form of token and health_check requests: the
// longest legitimate one is two JWTs and a code, well under 16 KiB.
const maxOAuthBody = 16 << 10

// Register adds the endpoints to r. They must not sit behind the browser
// pages' CSRF check: the client authenticates with its assertion.
func (o *OAuth) Register(r gin.IRouter) {
	r.GET(prompt.PathAuthorize, WithLoginDeadline, o.AuthorizeGET)
	r.POST(prompt.PathToken, WithLoginDeadline, o.TokenPOST)
	r.POST(prompt.PathHealthCheck, o.HealthCheckPOST)
}

// errOAuthParams is a request whose parameters cannot be read: a wrong
// content type, a body too large, a parameter given twice.
var errOAuthParams = errors.New("duo: unreadable parameters")

// params reads a client's parameters from the query string and the form
// body together: Duo's Python client sends them as query parameters with an
// empty body, the Go client as a form body. A parameter named twice (in
// either place, or in both) is refused rather than guessed at.
func params(c *gin.Context) (url.Values, error) {
	out := url.Values{}
	query, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, errOAuthParams
	}
	for k, v := range query {
		out[k] = append(out[k], v...)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxOAuthBody))
	if err != nil {
		return nil, errOAuthParams
	}
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, errOAuthParams
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errOAuthParams
		}
		for k, v := range form {
			out[k] = append(out[k], v...)
		}
	}
	for _, v := range out {
		if len(v) > 1 {
			return nil, errOAuthParams
		}
	}
	return out, nil
}

func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// HealthCheckPOST answers the client's health check once its assertion
// verifies.
func (o *OAuth) HealthCheckPOST(c *gin.Context) {
	noStore(c)
	p, err := params(c)
	if err != nil {
		o.healthFail(c, http.StatusBadRequest, "invalid_request", "The parameters could not be read: send a form body or query parameters, once each.")
		return
	}
	if _, err := o.Prompt.Authenticate(c.Request.Context(), p.Get("client_id"), p.Get("client_assertion"), prompt.PathHealthCheck); err != nil {
		var pe *prompt.Error
		if errors.As(err, &pe) {
			o.Log.Info("oauth health check refused", "reason", pe.Description, "ip", c.ClientIP())
			o.healthFail(c, http.StatusBadRequest, "invalid_client", pe.Description)
			return
		}
		o.Log.Error("oauth health check", "err", err)
		o.healthFail(c, http.StatusInternalServerError, "server_error", "The server could not check the request. Try again later.")
		return
	}
	c.JSON(http.StatusOK, gin.H{"stat": "OK", "response": gin.H{"timestamp": o.Prompt.Now().Unix()}})
}

func (o *OAuth) healthFail(c *gin.Context, status int, message, detail string) {
	c.JSON(status, gin.H{"stat": "FAIL", "code": 40002, "message": message, "message_detail": detail})
}

// TokenPOST exchanges an authorization code for the signed result.
func (o *OAuth) TokenPOST(c *gin.Context) {
	noStore(c)
	p, err := params(c)
	if err != nil {
		o.tokenFail(c, http.StatusBadRequest, prompt.CodeInvalidRequest, "The parameters could not be read: send a form body or query parameters, once each.")
		return
	}
	switch {
	case p.Get("grant_type") != "authorization_code":
		o.tokenFail(c, http.StatusBadRequest, prompt.CodeUnsupported, "grant_type must be authorization_code.")
		return
	case p.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		o.tokenFail(c, http.StatusBadRequest, prompt.CodeInvalidRequest, "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.")
		return
	case p.Get("code") == "" || p.Get("redirect_uri") == "":
		o.tokenFail(c, http.StatusBadRequest, prompt.CodeInvalidRequest, "code and redirect_uri are required.")
		return
	}
	ctx := c.Request.Context()
	app, err := o.Prompt.Authenticate(ctx, p.Get("client_id"), p.Get("client_assertion"), prompt.PathToken)
	if err != nil {
		o.refused(c, err)
		return
	}
	outcome, err := o.Prompt.Exchange(ctx, app, p.Get("code"), p.Get("redirect_uri"))
	if err != nil {
		o.refused(c, err)
		return
	}
	_, secret, err := o.Prompt.Client(ctx, app.ClientID)
	if err != nil {
		o.refused(c, err)
		return
	}
	tokens, err := o.Prompt.Tokens(app, secret, outcome)
	if err != nil {
		o.refused(c, err)
		return
	}
	c.JSON(http.StatusOK, tokens)
}

func (o *OAuth) refused(c *gin.Context, err error) {
	var pe *prompt.Error
	if errors.As(err, &pe) {
		o.Log.Info("oauth token refused", "error", pe.Code, "reason", pe.Description, "ip", c.ClientIP())
		status := http.StatusBadRequest
		if pe.Code == prompt.CodeInvalidClient {
			status = http.StatusUnauthorized
		}
		o.tokenFail(c, status, pe.Code, pe.Description)
		return
	}
	if store.Busy(err) {
		o.Log.Warn("oauth token: database busy", "err", err)
		c.Header("Retry-After", "1")
		o.tokenFail(c, http.StatusServiceUnavailable, "temporarily_unavailable", "The server is busy. Try again in a moment.")
		return
	}
	o.Log.Error("oauth token", "err", err)
	o.tokenFail(c, http.StatusInternalServerError, "server_error", "The server could not answer. Try again later.")
}

func (o *OAuth) tokenFail(c *gin.Context, status int, code, description string) {
	c.JSON(status, gin.H{"error": code, "error_description": description})
}

// AuthorizeGET starts a login: it verifies the application's signed request
// and sends the browser to the prompt. A request that does not verify, or
// that names a redirect URI not registered for the application, gets an
// error page: the portal never redirects to an address it cannot vouch for.
func (o *OAuth) AuthorizeGET(c *gin.Context) {
	if !o.Authorizations.Allow(c.ClientIP()) {
		c.Header("Retry-After", "10")
		o.ShowError(c, http.StatusTooManyRequests, "Too many sign-in attempts",
			"There have been too many sign-in attempts from your network in a short time.",
			"Wait a minute, then sign in to the application again.")
		return
	}
	q := c.Request.URL.Query()
	for _, v := range q {
		if len(v) > 1 {
			o.badAuthorize(c, "a parameter was given twice")
			return
		}
	}
	r, err := o.Prompt.ParseAuthorize(c.Request.Context(), q.Get("client_id"), q.Get("response_type"), q.Get("request"), q.Get("nonce"))
	if err != nil {
		var pe *prompt.Error
		if !errors.As(err, &pe) {
			o.authorizeFailed(c, err)
			return
		}
		o.badAuthorize(c, pe.Description)
		return
	}
	token, err := o.Prompt.Begin(c.Request.Context(), r, c.ClientIP())
	if err != nil {
		o.authorizeFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, o.PromptPath(token))
	c.Abort()
}

// authorizeFailed shows the error page of a failure on the portal's side:
// 503 when the database did not answer before the login deadline.
func (o *OAuth) authorizeFailed(c *gin.Context, err error) {
	if store.Busy(err) {
		o.Log.Warn("oauth authorize: database busy", "err", err)
		c.Header("Retry-After", "5")
		o.ShowError(c, http.StatusServiceUnavailable, "Sign-in is busy",
			"The sign-in service is busy right now and you could not be signed in. Nothing was changed.",
			"Go back to the application and try again in a minute.")
		return
	}
	o.Log.Error("oauth authorize", "err", err)
	o.ShowError(c, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side and you could not be signed in.",
		"Go back to the application and try again in a minute.")
}

func (o *OAuth) badAuthorize(c *gin.Context, reason string) {
	o.Log.Info("oauth authorize refused", "reason", reason, "ip", c.ClientIP())
	o.ShowError(c, http.StatusBadRequest, "This sign-in link is not valid",
		"The application sent you here with a sign-in request that is not valid or has expired.",
		"Go back to the application and sign in again. If it keeps happening, tell your help desk that the application's two-factor settings need checking.")
}
