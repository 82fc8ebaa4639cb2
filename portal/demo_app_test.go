package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/app"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestDemoAppRegistersItselfAndSignsInThroughThePortal runs `portal
// demo-app` against a served portal on the same database, as `make demo`
// does, and signs a bypass user in through it.
func TestDemoAppRegistersItselfAndSignsInThroughThePortal(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	settings := newDBFiles(t).settings(base)
	a, err := app.Open(ctx, settings, app.Options{LogOut: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	defer srv.Close()
	u := store.User{Key: "DUBYPASS000000000000", Username: "pat", Status: store.StatusBypass, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := a.Store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"PORTAL_DB": settings.DB, "PORTAL_BASE_URL": base, "PORTAL_SECRET_KEY_FILE": settings.SecretKeyFile}
	demo, stderr, stop := startDemoApp(t, env, "127.0.0.1:0")
	if !strings.Contains(stderr.String(), `Registered the web application "Demo app"`) {
		t.Fatalf("first run did not register the demo: %s", stderr)
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Fatalf("health check failed: %s", stderr)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := browser.PostForm(demo+"/login", url.Values{"username": {"Pat"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome, Pat") || !strings.Contains(string(body), "not_available") {
		t.Fatalf("after signing in: %d %s", resp.StatusCode, body)
	}
	stop()

	// A second run on the same address finds its application instead of
	// registering another.
	demoURL, _ := url.Parse(demo)
	_, stderr, stop = startDemoApp(t, env, "127.0.0.1:"+demoURL.Port())
	stop()
	if !strings.Contains(stderr.String(), "Using the application") {
		t.Fatalf("second run: %s", stderr)
	}
	list, err := a.Store.Applications(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("applications %v %v, want one", list, err)
	}
}

var listening = regexp.MustCompile(`Demo application on (http://\S+)`)

// startDemoApp runs the command until stop is called and returns its URL.
func startDemoApp(t *testing.T, env map[string]string, listen string) (string, *testkit.SafeBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &testkit.SafeBuffer{}, &testkit.SafeBuffer{}
	e := &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errOut, getenv: func(k string) string { return env[k] }}
	done := make(chan int)
	go func() { done <- run(ctx, e, []string{"demo-app", "--listen", listen}) }()
	stop := func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo-app exited %d: %s", code, errOut)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], errOut, stop
		}
		select {
		case code := <-done:
			t.Fatalf("demo-app exited %d: %s", code, errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	t.Fatalf("demo-app did not start: %s %s", out, errOut)
	return "", nil, nil
}

// TestDemoAppForAnotherApplicationDoesNotCallItselfTheDemo: with another
// application's credentials the header must not claim to be "Demo app".
func TestDemoAppForAnotherApplicationDoesNotCallItselfTheDemo(t *testing.T) {
	for _, tc := range []struct{ name, want string }{{"", "Your application"}, {"Payroll", "Payroll"}} {
		env := map[string]string{
			"PORTAL_BASE_URL": "http://127.0.0.1:1", "PORTAL_DEMO_CLIENT_ID": "DIAAAAAAAAAAAAAAAAAA",
			"PORTAL_DEMO_CLIENT_SECRET": strings.Repeat("s", 40), "PORTAL_DEMO_NAME": tc.name,
		}
		demo, _, stop := startDemoApp(t, env, "127.0.0.1:0")
		res, err := http.Get(demo + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		stop()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "<header>"+tc.want+" ") || strings.Contains(string(body), "Demo app") {
			t.Errorf("name %q: header not %q:\n%s", tc.name, tc.want, body)
		}
	}
}
