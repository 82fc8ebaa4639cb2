package enrollbench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

var (
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	setupKey  = regexp.MustCompile(`id="setup-key">([A-Z2-7 ]+)<`)
)

// visitor is one person's browser: its own cookies over the shared
// keep-alive connections.
type visitor struct {
	c      *http.Client
	link   string // http://127.0.0.1:PORT/enroll/TOKEN
	csrf   string
	secret string // the authenticator app's secret, read off the page
}

func newVisitor(tr http.RoundTripper, base, token string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{
		c: &http.Client{Transport: tr, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		link: base + "/enroll/" + token,
	}
}

// do sends one request and checks its status (and, for a redirect, where
// it goes); it returns the body.
func (v *visitor) do(method, path string, form url.Values, want int, wantLocation string) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, v.link+path, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := v.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	if wantLocation != "" && !strings.HasSuffix(resp.Header.Get("Location"), wantLocation) {
		return "", fmt.Errorf("%s %s: redirected to %q, want %q", method, path, resp.Header.Get("Location"), wantLocation)
	}
	return string(b), nil
}

// walkToCode goes from the link to the code step as a person would: open
// the link, choose a mobile phone, give its number, say it is an Android
// phone, and open the page with the QR code and the set-up key.
func (v *visitor) walkToCode() error {
	page, err := v.do("GET", "", nil, http.StatusOK, "")
	if err != nil {
		return err
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no csrf_token on the landing page")
	}
	v.csrf = m[1]
	steps := []struct {
		path, next string
		form       url.Values
	}{
		{"/choose", "/phone", url.Values{"method": {"mobile"}}},
		{"/phone", "/platform", url.Values{"country": {"US"}, "number": {"(201) 555-0123"}}},
		{"/platform", "/app", url.Values{"platform": {"Google Android"}}},
	}
	for _, s := range steps {
		s.form.Set("csrf_token", v.csrf)
		if _, err := v.do("POST", s.path, s.form, http.StatusSeeOther, s.next); err != nil {
			return err
		}
	}
	page, err = v.do("GET", "/app", nil, http.StatusOK, "")
	if err != nil {
		return err
	}
	k := setupKey.FindStringSubmatch(page)
	if k == nil {
		return fmt.Errorf("no set-up key on the code page")
	}
	v.secret = strings.ReplaceAll(k[1], " ", "")
	return nil
}

// postCode sends a code as the code step's form does.
func (v *visitor) postCode(code string, want int, wantLocation string) error {
	_, err := v.do("POST", "/app", url.Values{"code": {code}, "csrf_token": {v.csrf}}, want, wantLocation)
	return err
}

// currentCode is what the user's app shows now.
func (v *visitor) currentCode() (string, error) {
	return totp.GenerateCode(v.secret, time.Now())
}

// wrongCode is a six-digit code that matches none of the steps the portal
// accepts around now.
func (v *visitor) wrongCode(seq int) (string, error) {
	valid := map[string]bool{}
	now := time.Now()
	for _, off := range []time.Duration{-60 * time.Second, -30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
		code, err := totp.GenerateCode(v.secret, now.Add(off))
		if err != nil {
			return "", err
		}
		valid[code] = true
	}
	for i := seq; ; i += 7919 {
		code := fmt.Sprintf("%06d", i%1_000_000)
		if !valid[code] {
			return code, nil
		}
	}
}
