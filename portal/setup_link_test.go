package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"enrollportal/internal/app"
	"enrollportal/internal/config"
)

// startAndAnnounce opens the portal on dir as portal serve does and returns
// the setup link it prints, or "" when it prints none.
func startAndAnnounce(t *testing.T, s config.Settings) (*app.App, string) {
	t.Helper()
	a, err := app.Open(context.Background(), s, app.Options{LogOut: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := announceOwnerSetup(context.Background(), &cliEnv{stderr: &stderr}, a); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`http://localhost:8080(/admin/setup/\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		return a, ""
	}
	return a, m[1]
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// createOwnerAt opens a setup link as a browser would and submits the form;
// it returns the status of the opening and of the submission.
func createOwnerAt(t *testing.T, srv *httptest.Server, path, email string) (opened, submitted int) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	opened = resp.StatusCode
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !csrfField.Match(body) {
		// A dead link shows no form; a client that insists takes the
		// admin session's token from the sign-in page.
		resp, err := c.Get(srv.URL + "/admin/signin")
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	token := ""
	if m := csrfField.FindSubmatch(body); m != nil {
		token = string(m[1])
	}
	resp, err = c.PostForm(srv.URL+path, url.Values{"csrf_token": {token}, "email": {email},
		"password": {"a long password"}, "password_again": {"a long password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return opened, resp.StatusCode
}

// The stale owner link: every start without an admin printed a new link and
// the older ones stayed valid, so a link from the first start created a
// second owner after the first had been made with a later one. Each start
// now ends the links before it, and the first owner ends them all.
func TestOnlyTheLastPrintedSetupLinkCreatesTheOnlyOwner(t *testing.T) {
	s := newDBFiles(t).settings("http://localhost:8080")
	first, old := startAndAnnounce(t, s)
	first.Close()
	a, newest := startAndAnnounce(t, s) // the second make run
	if old == "" || newest == "" || old == newest {
		t.Fatalf("links printed: %q then %q", old, newest)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)

	if opened, created := createOwnerAt(t, srv, old, "first@example.org"); opened != http.StatusGone || created != http.StatusGone {
		t.Fatalf("the first start's link still works: open %d, submit %d", opened, created)
	}
	if opened, created := createOwnerAt(t, srv, newest, "owner@example.org"); opened != http.StatusOK || created != http.StatusSeeOther {
		t.Fatalf("the newest link: open %d, submit %d", opened, created)
	}
	for _, link := range []string{old, newest} {
		if opened, created := createOwnerAt(t, srv, link, "second@example.org"); opened != http.StatusGone || created != http.StatusGone {
			t.Fatalf("%s after the owner exists: open %d, submit %d", link, opened, created)
		}
	}
	n, err := a.Store.CountAdmins(context.Background())
	srv.Close()
	a.Close()
	if err != nil || n != 1 {
		t.Fatalf("%d admins (%v), want the one owner", n, err)
	}
	again, none := startAndAnnounce(t, s)
	defer again.Close()
	if none != "" {
		t.Fatalf("a start with an owner printed %s", none)
	}
}
