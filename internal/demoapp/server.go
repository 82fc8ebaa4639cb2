package demoapp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Server is the demo application's web site: a sign-in form, the redirect
// to the portal, the callback that exchanges the code, and a page that shows
// who is signed in.
type Server struct {
	client *Client
	name   string
	log    *slog.Logger
	key    []byte // signs the demo's own cookies
	mux    *http.ServeMux
}

// NewServer returns the demo application for client; name is shown on its
// pages.
func NewServer(client *Client, name string, log *slog.Logger) *Server {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := &Server{client: client, name: name, log: log, key: key, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("GET /callback", s.callback)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /style.css", s.style)
	return s
}

// Handler returns the demo's HTTP handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self' "+s.client.scheme()+"://"+s.client.APIHost+"; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		s.mux.ServeHTTP(w, r)
	})
}

const (
	loginCookie   = "demo_login"
	sessionCookie = "demo_session"
)

// pending is a sign-in on its way through the portal.
type pending struct {
	Username string `json:"u"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Expires  int64  `json:"e"`
}

// signedIn is the demo's session once the portal said yes.
type signedIn struct {
	Username string `json:"u"`
	Factor   string `json:"f"`
	Reason   string `json:"r"`
	TxID     string `json:"t"`
	Expires  int64  `json:"e"`
}

func (s *Server) setCookie(w http.ResponseWriter, name string, v any, ttl time.Duration) {
	raw, _ := json.Marshal(v)
	p := base64.RawURLEncoding.EncodeToString(raw)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(name + "." + p))
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)),
		Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(ttl / time.Second),
		Secure: strings.HasPrefix(s.client.RedirectURI, "https://"),
	})
}

func (s *Server) readCookie(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil {
		return false
	}
	p, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(name + "." + p))
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	return err == nil && json.Unmarshal(raw, v) == nil
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
}

type pageData struct {
	App      string
	SignedIn *signedIn
	Error    string
	Username string
}

func (s *Server) render(w http.ResponseWriter, status int, d pageData) {
	d.App = s.name
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, d); err != nil {
		s.log.Error("demo app: render", "err", err)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	var si signedIn
	if s.readCookie(r, sessionCookie, &si) && time.Now().Unix() < si.Expires {
		s.render(w, http.StatusOK, pageData{SignedIn: &si})
		return
	}
	s.render(w, http.StatusOK, pageData{})
}

// login sends the browser to the portal's authorize endpoint for the
// username typed, remembering the state and nonce in a signed cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	if username == "" || len(username) > 100 {
		s.render(w, http.StatusBadRequest, pageData{Error: "Enter a username (up to 100 characters).", Username: username})
		return
	}
	p := pending{Username: username, State: RandomString(36), Nonce: RandomString(36), Expires: time.Now().Add(10 * time.Minute).Unix()}
	target, err := s.client.AuthURL(username, p.State, p.Nonce)
	if err != nil {
		s.log.Error("demo app: auth url", "err", err)
		s.render(w, http.StatusInternalServerError, pageData{Error: "Could not start the sign-in."})
		return
	}
	s.setCookie(w, loginCookie, p, 10*time.Minute)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// callback checks the state, exchanges the code and verifies the result.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	var p pending
	if !s.readCookie(r, loginCookie, &p) || time.Now().Unix() >= p.Expires {
		s.render(w, http.StatusBadRequest, pageData{Error: "This sign-in expired or was started in another browser. Sign in again."})
		return
	}
	clearCookie(w, loginCookie)
	q := r.URL.Query()
	if !hmac.Equal([]byte(q.Get("state")), []byte(p.State)) {
		s.render(w, http.StatusBadRequest, pageData{Error: "The answer from the portal did not match this sign-in. Sign in again."})
		return
	}
	code := q.Get("duo_code")
	if !s.client.UseDuoCode {
		code = q.Get("code")
	}
	res, err := s.client.Exchange(r.Context(), code, p.Username, p.Nonce)
	if err != nil {
		s.log.Error("demo app: exchange", "err", err)
		s.render(w, http.StatusBadGateway, pageData{Error: "The portal's answer could not be verified, so you are not signed in."})
		return
	}
	if !res.Allowed() {
		s.render(w, http.StatusForbidden, pageData{Error: "The portal denied this sign-in: " + res.AuthResult.StatusMsg})
		return
	}
	s.setCookie(w, sessionCookie, signedIn{
		Username: p.Username, Factor: res.AuthContext.Factor, Reason: res.AuthContext.Reason, TxID: res.AuthContext.TxID,
		Expires: time.Now().Add(8 * time.Hour).Unix(),
	}, 8*time.Hour)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write([]byte(css))
}

const css = `body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}
header{background:#263238;color:#fff;padding:.75rem 1rem;font-weight:600}
main{max-width:32rem;margin:0 auto;padding:1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input{display:block;width:100%;box-sizing:border-box;min-height:2.75rem;padding:.5rem;font:inherit;border:2px solid #555;border-radius:6px;margin:0 0 1rem}
button{min-height:2.75rem;padding:.5rem 1.25rem;font:inherit;font-weight:600;border-radius:6px;border:2px solid #263238;background:#263238;color:#fff;cursor:pointer}
.error{border-left:4px solid #b00020;padding:.5rem 1rem;background:#fdecee}
.ok{border-left:4px solid #1b5e20;padding:.5rem 1rem;background:#edf5ee}
dt{font-weight:600}dd{margin:0 0 .5rem;overflow-wrap:anywhere}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}`

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .SignedIn}}Welcome{{else}}Sign in{{end}} - {{.App}}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>{{.App}} <span class="demo-note">(demo application)</span></header>
<main>
{{if .SignedIn}}
<h1>Welcome, {{.SignedIn.Username}}</h1>
<p class="ok" role="status">You are signed in. The portal checked your second factor.</p>
<dl>
  <dt>Factor</dt><dd id="factor">{{.SignedIn.Factor}}</dd>
  <dt>Reason</dt><dd id="reason">{{.SignedIn.Reason}}</dd>
  <dt>Transaction</dt><dd>{{.SignedIn.TxID}}</dd>
</dl>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
{{else}}
<h1>Sign in</h1>
{{if .Error}}<p class="error" role="alert" id="demo-error">{{.Error}}</p>{{end}}
<p>This demo stands in for one of your organisation's applications. Type a username; the portal then asks for a second factor, or walks a new user through setting one up.</p>
<form method="post" action="/login">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" required value="{{.Username}}">
  <button type="submit">Sign in</button>
</form>
{{end}}
</main>
</body>
</html>
`))
