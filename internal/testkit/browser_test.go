package testkit

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"
)

// recorder is a testing.TB that records failures instead of failing the
// real test, so the harness's own failures can be asserted on. Fatal stops
// the calling goroutine as the real one does.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, s)
}

func (r *recorder) Helper()                        {}
func (r *recorder) Error(args ...any)              { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, a ...any) { r.record(fmt.Sprintf(format, a...)) }
func (r *recorder) Fail()                          { r.record("Fail") }
func (r *recorder) Fatal(args ...any)              { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, a ...any) {
	r.record(fmt.Sprintf(format, a...))
	runtime.Goexit()
}
func (r *recorder) FailNow()         { r.record("FailNow"); runtime.Goexit() }
func (r *recorder) Skip(args ...any) { r.record("Skip: " + fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Skipf(format string, a ...any) {
	r.record("Skip: " + fmt.Sprintf(format, a...))
	runtime.Goexit()
}
func (r *recorder) SkipNow()                        { r.record("SkipNow"); runtime.Goexit() }
func (r *recorder) Failed() bool                    { r.mu.Lock(); defer r.mu.Unlock(); return len(r.failures) > 0 }
func (r *recorder) Log(args ...any)                 { r.TB.Log(args...) }
func (r *recorder) Logf(format string, args ...any) { r.TB.Logf(format, args...) }

// underRecorder runs fn with a recorder on its own goroutine, as the testing
// package runs a test, and returns what it recorded.
func underRecorder(t *testing.T, fn func(tb testing.TB)) []string {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.failures...)
}

// pageServer serves fixed pages under the same strict CSP as the portal,
// at http://localhost:PORT (a secure context, as the portal's tests use).
func pageServer(t *testing.T, pages map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'")
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		fmt.Fprint(w, body)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// htmlPage wraps body in a document that passes axe-core by itself.
func htmlPage(title, body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1">` +
		`<title>` + title + `</title></head>` +
		`<body><main><h1>` + title + `</h1>` + body + `</main></body></html>`
}

func TestBrowserHarnessHomePageIsAccessible(t *testing.T) {
	for _, vp := range []Viewport{Phone, Desktop} {
		t.Run(vp.Name, func(t *testing.T) {
			p := Serve(t)
			b := NewBrowser(t, At(p.URL), WithViewport(vp))
			b.Visit("/")
			if got := b.Text("h1"); got != "Two-factor enrollment" {
				t.Errorf("heading = %q", got)
			}
			if w := Eval[int](b, "window.innerWidth"); w != int(vp.Width) {
				t.Errorf("window width = %d, want %d", w, vp.Width)
			}
			if mobile := Eval[bool](b, `navigator.userAgent.includes("Mobile")`); mobile != vp.Mobile {
				t.Errorf("mobile user agent = %v at %s", mobile, vp.Name)
			}
		})
	}
}

// An error page's own status (404, 410) is the portal's deliberate answer,
// not a page error: Chromium logs "Failed to load resource" for it, and the
// harness must not fail on that.
func TestBrowserHarnessAcceptsErrorStatusPages(t *testing.T) {
	p := Serve(t)
	b := NewBrowser(t, At(p.URL), CheckAccessibilityAt(Desktop))
	b.Visit("/enroll/" + strings.Repeat("x", 43))
	if got := b.Text("h1"); got == "" {
		t.Error("the error page has no heading")
	}
	b.Visit("/no/such/page")
	if got := b.Text("h1"); got == "" {
		t.Error("the not-found page has no heading")
	}
}

func TestBrowserHarnessFailsOnAccessibilityViolation(t *testing.T) {
	base := pageServer(t, map[string]string{
		"/ok": htmlPage("Fine", `<p><a href="/bad">Next</a></p>`+
			`<form action="/bad" method="get"><label for="q">Name</label> <input id="q" name="q">`+
			` <button type="submit">Go</button></form>`),
		"/bad": htmlPage("Broken", `<img src="/missing.png"><input type="text">`),
	})
	for _, vp := range []Viewport{Phone, Desktop} {
		t.Run("visit at "+vp.Name, func(t *testing.T) {
			failures := underRecorder(t, func(tb testing.TB) {
				b := NewBrowser(tb, At(base), CheckAccessibilityAt(vp), AllowConsoleMessage("missing.png"))
				b.Visit("/bad")
				tb.Errorf("the harness let a page with violations pass")
			})
			assertFailure(t, failures, "image-alt (critical)", "label (critical)", "["+vp.Name+" width]", `<img src="/missing.png">`)
		})
	}
	t.Run("page reached by a click", func(t *testing.T) {
		failures := underRecorder(t, func(tb testing.TB) {
			b := NewBrowser(tb, At(base), AllowConsoleMessage("missing.png"))
			b.Visit("/ok")
			b.Click("a")
			tb.Errorf("the harness let a page with violations pass")
		})
		assertFailure(t, failures, "image-alt", "/bad")
	})
	t.Run("page reached by a form", func(t *testing.T) {
		failures := underRecorder(t, func(tb testing.TB) {
			b := NewBrowser(tb, At(base), CheckAccessibilityAt(Phone), AllowConsoleMessage("missing.png"))
			b.Visit("/ok")
			b.SendKeys("#q", "alice")
			b.Submit("#q")
			tb.Errorf("the harness let a page with violations pass")
		})
		assertFailure(t, failures, "image-alt", "/bad?q=alice")
	})
}

func TestBrowserHarnessFailsOnConsoleErrorsAndCSP(t *testing.T) {
	base := pageServer(t, map[string]string{
		"/inline":   htmlPage("Inline", `<p>Hi</p><script>document.title = "ran";</script>`),
		"/console":  htmlPage("Console", `<p>Hi</p><script src="/err.js"></script>`),
		"/err.js":   `console.error("something broke");`,
		"/throw":    htmlPage("Throw", `<p>Hi</p><script src="/throw.js"></script>`),
		"/throw.js": `throw new Error("kaboom");`,
		"/clean":    htmlPage("Clean", `<p>Hi</p>`),
		"/arrived":  htmlPage("Arrived", `<p id="arrived">Here</p>`),
		"/typed": htmlPage("Typed", `<form action="/arrived"><label for="c">Code</label> <input id="c" name="c">`+
			`</form><script src="/typed.js"></script>`),
		"/typed.js": `document.getElementById("c").addEventListener("input", e => {
  if (e.target.value.length === 6) setTimeout(() => e.target.form.submit(), 400);
});`,
		"/auto":    htmlPage("Auto", `<p>Moving on</p><script src="/auto.js"></script>`),
		"/auto.js": `window.addEventListener("load", () => setTimeout(() => location.replace("/arrived"), 50));`,
	})
	cases := []struct{ path, want string }{
		{"/inline", "Content Security Policy"},
		{"/console", "something broke"},
		{"/throw", "kaboom"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			failures := underRecorder(t, func(tb testing.TB) {
				b := NewBrowser(tb, At(base), CheckAccessibilityAt(Desktop))
				b.Visit(c.path)
				tb.Errorf("the harness let a page with errors pass")
			})
			assertFailure(t, failures, c.want)
		})
	}
	t.Run("page that moves on by itself", func(t *testing.T) {
		b := NewBrowser(t, At(base))
		b.Visit("/auto")
		b.WaitVisible("#arrived")
		if got := b.Text("h1"); got != "Arrived" {
			t.Errorf("heading = %q, want the page the script moved to", got)
		}
	})
	t.Run("form that submits itself after typing", func(t *testing.T) {
		b := NewBrowser(t, At(base))
		b.Visit("/typed")
		b.SendKeys("#c", "123456")
		b.WaitLocation("/arrived?c=123456")
		if got := b.Text("h1"); got != "Arrived" {
			t.Errorf("heading = %q", got)
		}
	})
	t.Run("clean page passes", func(t *testing.T) {
		b := NewBrowser(t, At(base), CheckAccessibilityAt(Desktop))
		b.Visit("/clean")
		if got := b.Text("h1"); got != "Clean" {
			t.Errorf("heading = %q", got)
		}
	})
}

func TestBrowserHarnessVirtualSecurityKey(t *testing.T) {
	base := pageServer(t, map[string]string{
		"/key": htmlPage("Key", `<p><button type="button" id="make">Make a key</button></p>`+
			`<p id="out" role="status"></p><script src="/key.js"></script>`),
		"/key.js": `document.getElementById("make").addEventListener("click", async () => {
  const cred = await navigator.credentials.create({publicKey: {
    challenge: new Uint8Array(32), rp: {name: "Test", id: "localhost"},
    user: {id: new Uint8Array([1, 2, 3]), name: "alice", displayName: "Alice"},
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {residentKey: "required", userVerification: "required"}}});
  document.getElementById("out").textContent = "made " + cred.type;
});`,
	})
	b := NewBrowser(t, At(base), CheckAccessibilityAt(Desktop))
	id := b.AddVirtualAuthenticator()
	b.Visit("/key")
	b.Click("#make")
	b.WaitVisible("#out:not(:empty)")
	if got := b.Text("#out"); got != "made public-key" {
		t.Errorf("status = %q", got)
	}
	creds := b.Credentials(id)
	if len(creds) != 1 || creds[0].RpID != "localhost" || !creds[0].IsResidentCredential {
		t.Fatalf("credentials = %+v", creds)
	}
}

func TestDecodeQRPNGAndTOTPNow(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Example Org", AccountName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// Whole pixels a module, as the portal draws its codes (-5): at a fixed
	// 256 px some random secrets gave a code whose modules fell between
	// pixels, which gozxing could not read (a flake seen in CI).
	png, err := qrcode.Encode(key.URL(), qrcode.Medium, -5)
	if err != nil {
		t.Fatal(err)
	}
	got := DecodeQRPNG(t, png)
	if got != key.URL() {
		t.Fatalf("decoded %q, want %q", got, key.URL())
	}
	want, err := totp.GenerateCode(key.Secret(), at)
	if err != nil {
		t.Fatal(err)
	}
	if code := TOTPNow(t, got, at); code != want || len(code) != 6 {
		t.Errorf("TOTPNow = %q, want %q", code, want)
	}
	later := at.Add(90 * time.Second)
	wantLater, err := totp.GenerateCode(key.Secret(), later)
	if err != nil {
		t.Fatal(err)
	}
	if code := TOTPNow(t, got, later); code != wantLater {
		t.Errorf("TOTPNow 90 s later = %q, want %q", code, wantLater)
	}
}

func assertFailure(t *testing.T, failures []string, wants ...string) {
	t.Helper()
	all := strings.Join(failures, "\n")
	if len(failures) == 0 {
		t.Fatal("the harness recorded no failure")
	}
	if strings.Contains(all, "the harness let a page") {
		t.Fatalf("the harness did not stop the test:\n%s", all)
	}
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("failure report lacks %q:\n%s", w, all)
		}
	}
}
