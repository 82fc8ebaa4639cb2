package demoapp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Client speaks the Universal Prompt protocol as Duo's client libraries do
// (duo_universal_golang / _python): HS512 JWTs signed with the client
// secret, a 300-second lifetime, 60 seconds of skew when checking the
// id_token.
type Client struct {
	ClientID     string // 20 characters
	ClientSecret string // 40 characters
	// APIHost is the portal's host[:port], as Duo's clients take it.
	APIHost string
	// Scheme is https (what Duo's clients always use) unless set, e.g. to
	// http for a portal on localhost.
	Scheme      string
	RedirectURI string
	// UseDuoCode asks for duo_code= rather than code= on the way back.
	UseDuoCode bool
	HTTP       *http.Client
	// Now is the clock the JWTs are made and checked with; time.Now if nil.
	Now func() time.Time
}

// Result is the verified id_token.
type Result struct {
	Username    string
	AuthResult  AuthResult  `json:"auth_result"`
	AuthContext AuthContext `json:"auth_context"`
	Claims      jwt.MapClaims
}

// AuthResult is the id_token's auth_result claim.
type AuthResult struct {
	Result    string `json:"result"`
	Status    string `json:"status"`
	StatusMsg string `json:"status_msg"`
}

// AuthContext is the part of the auth_context claim the demo shows.
type AuthContext struct {
	Factor string `json:"factor"`
	Result string `json:"result"`
	Reason string `json:"reason"`
	TxID   string `json:"txid"`
	User   struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	} `json:"user"`
	Application struct {
		Name string `json:"name"`
	} `json:"application"`
}

// Allowed reports whether the portal said the user may sign in.
func (r Result) Allowed() bool { return r.AuthResult.Result == "allow" }

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) scheme() string {
	if c.Scheme == "" {
		return "https"
	}
	return c.Scheme
}

func (c *Client) url(path string) string { return c.scheme() + "://" + c.APIHost + path }

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// RandomString returns n random letters and digits, for state and nonce.
func RandomString(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

func (c *Client) sign(claims jwt.MapClaims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString([]byte(c.ClientSecret))
}

// Assertion is a client assertion for the endpoint at path.
func (c *Client) Assertion(path string) (string, error) {
	return c.sign(jwt.MapClaims{
		"iss": c.ClientID, "sub": c.ClientID, "aud": c.url(path),
		"exp": c.now().Add(300 * time.Second).Unix(), "jti": RandomString(36),
	})
}

// AuthURL is the address to send the browser to for username.
func (c *Client) AuthURL(username, state, nonce string) (string, error) {
	claims := jwt.MapClaims{
		"scope": "openid", "redirect_uri": c.RedirectURI, "client_id": c.ClientID, "iss": c.ClientID,
		"aud": c.scheme() + "://" + c.APIHost, "exp": c.now().Add(300 * time.Second).Unix(),
		"state": state, "response_type": "code", "duo_uname": username, "use_duo_code_attribute": c.UseDuoCode,
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	request, err := c.sign(claims)
	if err != nil {
		return "", err
	}
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "request": {request}}
	return c.url("/oauth/v1/authorize") + "?" + q.Encode(), nil
}

// HealthCheck asks the portal whether it is up and accepts the credentials.
func (c *Client) HealthCheck(ctx context.Context) error {
	a, err := c.Assertion("/oauth/v1/health_check")
	if err != nil {
		return err
	}
	body, status, err := c.post(ctx, "/oauth/v1/health_check", url.Values{"client_id": {c.ClientID}, "client_assertion": {a}})
	if err != nil {
		return err
	}
	var r struct {
		Stat          string `json:"stat"`
		Message       string `json:"message"`
		MessageDetail string `json:"message_detail"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("health check: HTTP %d", status)
	}
	if r.Stat != "OK" {
		return fmt.Errorf("health check: %s: %s", r.Message, r.MessageDetail)
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}

// Exchange trades the code for the result and verifies the id_token: HS512
// with the client secret, aud the client_id, iss the portal's token URL,
// preferred_username the user the login was for, and the nonce when one
// was sent.
func (c *Client) Exchange(ctx context.Context, code, username, nonce string) (Result, error) {
	if code == "" {
		return Result{}, errors.New("no code")
	}
	a, err := c.Assertion("/oauth/v1/token")
	if err != nil {
		return Result{}, err
	}
	body, status, err := c.post(ctx, "/oauth/v1/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI},
		"client_id": {c.ClientID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {a},
	})
	if err != nil {
		return Result{}, err
	}
	if status != http.StatusOK {
		return Result{}, fmt.Errorf("token: HTTP %d: %s", status, body)
	}
	var tr struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.IDToken == "" || tr.AccessToken == "" || tr.ExpiresIn == 0 || tr.TokenType == "" {
		return Result{}, errors.New("token: incomplete answer")
	}
	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(
		jwt.WithValidMethods([]string{"HS512"}), jwt.WithAudience(c.ClientID),
		jwt.WithIssuer("https://"+c.APIHost+"/oauth/v1/token"), jwt.WithLeeway(60*time.Second),
		jwt.WithTimeFunc(c.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
	).ParseWithClaims(tr.IDToken, claims, func(*jwt.Token) (any, error) { return []byte(c.ClientSecret), nil })
	if err != nil {
		return Result{}, fmt.Errorf("id_token: %w", err)
	}
	if claims["preferred_username"] != username {
		return Result{}, errors.New("id_token: preferred_username is not the user who signed in")
	}
	if nonce != "" && claims["nonce"] != nonce {
		return Result{}, errors.New("id_token: nonce does not match")
	}
	r := Result{Username: username, Claims: claims}
	raw, _ := json.Marshal(claims)
	if err := json.Unmarshal(raw, &r); err != nil {
		return Result{}, fmt.Errorf("id_token: %w", err)
	}
	return r, nil
}
