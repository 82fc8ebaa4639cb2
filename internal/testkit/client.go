package testkit

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Client is the tests' HTTP client, a browser without JavaScript: it keeps
// cookies, does not follow redirects (so tests see them), and remembers the
// CSRF token of the last page it fetched for the next form post. For a
// portal started with Serve it goes over the network; otherwise it drives
// p.Handler in process, from an address of its own (IP).
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	jar  *cookieJar
	csrf string
	// IP is the client address requests come from, when the portal is not
	// served (a served portal sees the loopback address).
	IP string
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body string
}

// clientNumber gives each in-process client an address of its own, so that
// the portal's per-address rate limits see separate people unless a test
// sets the same IP on purpose.
var clientNumber atomic.Uint32

func nextClientIP() string {
	n := clientNumber.Add(1)
	return fmt.Sprintf("198.%d.%d.%d", 18+(n>>16)&1, (n>>8)&255, n&255)
}

// NewClient returns a client of p with no cookies.
func NewClient(t testing.TB, p *Portal) *Client {
	t.Helper()
	c := &Client{t: t, base: p.URL, jar: &cookieJar{cookies: map[string]*http.Cookie{}}}
	if p.served {
		c.IP = "127.0.0.1"
		c.http = c.newHTTP(nil)
	} else {
		c.IP = nextClientIP()
		c.http = c.newHTTP(handlerTransport{h: p.Handler, c: c})
	}
	return c
}

// NewClientAt returns a client with no cookies of the portal at base (a
// portal this process did not open, such as a `portal serve` process or a
// proxy in front of several), over transport.
func NewClientAt(t testing.TB, base string, transport http.RoundTripper) *Client {
	t.Helper()
	c := &Client{t: t, base: base, jar: &cookieJar{cookies: map[string]*http.Cookie{}}, IP: "127.0.0.1"}
	c.http = c.newHTTP(transport)
	return c
}

func (c *Client) newHTTP(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     rt,
		Jar:           c.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Copy returns a client holding copies of c's cookies, as someone who
// copied them out of c's browser would; in process, it comes from another
// address.
func (c *Client) Copy() *Client {
	cp := *c
	cp.jar = c.jar.copy()
	if rt, ok := c.http.Transport.(handlerTransport); ok {
		cp.IP = nextClientIP()
		cp.http = cp.newHTTP(handlerTransport{h: rt.h, c: &cp})
	} else {
		cp.http = cp.newHTTP(nil)
	}
	return &cp
}

// handlerTransport answers requests with the portal's handler, in process.
type handlerTransport struct {
	h http.Handler
	c *Client
}

func (rt handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	in := httptest.NewRequest(req.Method, req.URL.String(), req.Body)
	in = in.WithContext(req.Context())
	in.Header = req.Header.Clone()
	in.RemoteAddr = rt.c.IP + ":40000"
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, in)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// cookieJar keeps one cookie of each name, whatever its path, as the one
// portal a test talks to sets them.
type cookieJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ck := range cookies {
		if ck.MaxAge < 0 {
			delete(j.cookies, ck.Name)
		} else {
			cp := *ck
			j.cookies[ck.Name] = &cp
		}
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, ck := range j.cookies {
		out = append(out, &http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return out
}

func (j *cookieJar) copy() *cookieJar {
	j.mu.Lock()
	defer j.mu.Unlock()
	cp := &cookieJar{cookies: make(map[string]*http.Cookie, len(j.cookies))}
	for k, v := range j.cookies {
		ck := *v
		cp.cookies[k] = &ck
	}
	return cp
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRF is the token of the last page read.
func (c *Client) CSRF() string { return c.csrf }

// Do sends req (a path relative to the portal, or a full URL) and reads the
// answer.
func (c *Client) Do(req *http.Request) Response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if m := csrfInput.FindStringSubmatch(string(body)); m != nil {
		c.csrf = m[1]
	}
	return Response{Response: res, Body: string(body)}
}

// Send sends a request with body of contentType (none when "") to path.
func (c *Client) Send(method, path string, body io.Reader, contentType string) Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url(path), body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

func (c *Client) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return c.base + path
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	return c.Send(http.MethodGet, path, nil, "")
}

// Post submits a form to path, adding the remembered CSRF token unless form
// already has a csrf_token (set it to "" to send none).
func (c *Client) Post(path string, form url.Values) Response {
	c.t.Helper()
	return c.Do(c.formRequest(path, form))
}

// formRequest is the POST of form to path, with the remembered CSRF token
// unless form has a csrf_token.
func (c *Client) formRequest(path string, form url.Values) *http.Request {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// Location is the path a redirect points to.
func (r Response) Location() string {
	loc := r.Header.Get("Location")
	if u, err := url.Parse(loc); err == nil && u.Host != "" {
		return u.RequestURI()
	}
	return loc
}

// PostAll submits every form to path at once, as a script firing requests in
// parallel would, with the client's cookies and remembered CSRF token, and
// returns the answers in the order of forms. It changes nothing the client
// remembers but cookies.
func (c *Client) PostAll(path string, forms []url.Values) []Response {
	c.t.Helper()
	out := make([]Response, len(forms))
	var wg sync.WaitGroup
	for i, form := range forms {
		req := c.formRequest(path, form)
		wg.Go(func() {
			res, err := c.http.Do(req)
			if err != nil {
				c.t.Errorf("POST %s: %v", path, err)
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				c.t.Errorf("POST %s: read body: %v", path, err)
			}
			out[i] = Response{Response: res, Body: string(body)}
		})
	}
	wg.Wait()
	return out
}
