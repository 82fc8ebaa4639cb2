package testkit

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Client is a browser-like HTTP client for tests: it keeps cookies, does not
// follow redirects (so tests see them), and remembers the CSRF token of the
// last page it fetched for the next form post.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	CSRF string
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body string
}

// NewClient returns a client for the served portal p (see Serve).
func NewClient(t testing.TB, p *Portal) *Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: p.URL, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

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
		c.CSRF = m[1]
	}
	return Response{Response: res, Body: string(body)}
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
	req, err := http.NewRequest(http.MethodGet, c.url(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
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
		form.Set("csrf_token", c.CSRF)
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
// remembers.
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
