package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Viewport is a window size the browser emulates.
type Viewport struct {
	Name          string
	Width, Height int64
	// Mobile turns on mobile emulation: touch events, a phone user agent and
	// the meta viewport, as a phone's browser would.
	Mobile bool
}

var (
	// Phone is a small Android phone held upright.
	Phone = Viewport{Name: "phone", Width: 360, Height: 740, Mobile: true}
	// Desktop is a laptop-sized window.
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 900}
)

// BrowserOption changes how NewBrowser sets up the browser.
type BrowserOption func(*browserConfig)

type browserConfig struct {
	viewport  Viewport
	a11yAt    []Viewport
	timeout   time.Duration
	grace     time.Duration
	baseURL   string
	allowLogs []string
	// acceptCerts lets the browser load a portal served with the test CA's
	// certificate (ServeTLS), which it does not trust.
	acceptCerts bool
}

// AcceptTestCertificates lets the browser open a portal served over HTTPS
// by ServeTLS, whose test CA it does not know: tests that need the portal
// on HTTPS for another client (Duo's, which require it) drive its pages in
// the same browser.
func AcceptTestCertificates() BrowserOption {
	return func(c *browserConfig) { c.acceptCerts = true }
}

// WithViewport sets the window the pages are shown in (Phone or Desktop).
// The default is Desktop.
func WithViewport(v Viewport) BrowserOption {
	return func(c *browserConfig) { c.viewport = v }
}

// CheckAccessibilityAt sets the widths at which every page is checked with
// axe-core. The default is both Phone and Desktop, whatever the browser's
// own viewport is; after a check the browser's own viewport is restored.
func CheckAccessibilityAt(vs ...Viewport) BrowserOption {
	return func(c *browserConfig) { c.a11yAt = vs }
}

// At lets Visit take paths ("/enroll/x") relative to base, usually
// a testkit.Serve portal's p.URL.
func At(base string) BrowserOption {
	return func(c *browserConfig) { c.baseURL = strings.TrimSuffix(base, "/") }
}

// WithStepTimeout bounds each harness step (finding an element, loading a
// page). The default is 20 s: generous because the test machines are shared.
func WithStepTimeout(d time.Duration) BrowserOption {
	return func(c *browserConfig) { c.timeout = d }
}

// AllowConsoleMessage lets a console error or log entry that contains
// substr pass. Use it only for a message the test itself provokes and
// asserts on; everything else the page logs as an error fails the test.
func AllowConsoleMessage(substr string) BrowserOption {
	return func(c *browserConfig) { c.allowLogs = append(c.allowLogs, substr) }
}

// Browser is one headless Chromium tab driven through the DevTools protocol.
// Every page it loads is checked with axe-core (at phone and desktop widths
// by default) and for console errors, uncaught exceptions and
// Content-Security-Policy violations; any finding fails the test. The check
// runs after Visit, after a Click or Submit that navigates, on PageLoaded,
// before any other step when a new page has loaded in the meantime, and at
// the end of the test.
type Browser struct {
	t   testing.TB
	ctx context.Context
	cfg browserConfig
	axe string

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every navigation event
	mainFrame  cdp.FrameID
	navSignals int  // main-frame navigations requested or started
	loading    bool // the main frame is loading a document
	loads      int  // load events of the main frame
	checked    int  // value of loads at the last page check
	problems   []string
	documents  map[string]bool // URLs of documents, whose HTTP status the page may choose
	logEntries []*log.Entry
}

// ChromiumPath returns the Chromium binary the browser tests use, failing the
// test (never skipping it) when there is none.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium is not installed: run `make test-tools` as root (apt-get install chromium)")
	return ""
}

// NewBrowser starts a headless Chromium with a fresh profile for the test and
// opens one tab. The browser stops when the test ends.
func NewBrowser(t testing.TB, opts ...BrowserOption) *Browser {
	t.Helper()
	cfg := browserConfig{
		viewport: Desktop,
		a11yAt:   []Viewport{Phone, Desktop},
		timeout:  20 * time.Second,
		grace:    300 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	axe := loadAxe(t)

	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(cfg.viewport.Width), int(cfg.viewport.Height)),
	}
	if cfg.acceptCerts {
		allocOpts = append(allocOpts, chromedp.Flag("ignore-certificate-errors", true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(func(string, ...any) {}))
	b := &Browser{
		t: t, ctx: ctx, cfg: cfg, axe: axe,
		changed:   make(chan struct{}),
		documents: map[string]bool{},
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser without a deadline: a timeout on the first Run
	// would stop the whole browser when it expires.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("listen to chromium: %v", err)
	}
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatalf("frame tree: %v", err)
	}
	b.mainFrame = tree.FrameTree.Frame.ID
	if err := chromedp.Do(ctx, emulate(cfg.viewport)); err != nil {
		t.Fatalf("emulate %s: %v", cfg.viewport.Name, err)
	}
	// The last page the test saw is checked too. Cleanups run last-in
	// first-out, so this runs while the browser is still up.
	t.Cleanup(func() {
		if ctx.Err() == nil {
			b.checkIfLoaded(false)
			b.saveArtifacts()
		}
	})
	return b
}

// saveArtifacts keeps a screenshot and the HTML of the last page of a
// failed test in $PORTAL_TEST_ARTIFACTS (when set), to see what the
// browser saw.
func (b *Browser) saveArtifacts() {
	dir := os.Getenv("PORTAL_TEST_ARTIFACTS")
	if dir == "" || !b.t.Failed() {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("artifacts: %v", err)
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name()))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(name+".png", png, 0o644)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(name+".html", []byte(html), 0o644)
	}
	b.t.Logf("browser: the last page is saved as %s.png and %s.html", name, name)
}

// Context is the chromedp context of the tab, for chromedp calls the harness
// has no helper for. Follow such calls with PageLoaded if they load a page.
func (b *Browser) Context() context.Context { return b.ctx }

// onEvent runs on chromedp's reader goroutine: it only records.
func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bump := func() {
		close(b.changed)
		b.changed = make(chan struct{})
	}
	switch ev := ev.(type) {
	case *page.EventFrameRequestedNavigation:
		if ev.FrameID == b.mainFrame && ev.Disposition == page.ClientNavigationDispositionCurrentTab {
			b.navSignals++
			bump()
		}
	case *page.EventFrameStartedLoading:
		if ev.FrameID == b.mainFrame {
			b.navSignals++
			b.loading = true
			bump()
		}
	case *page.EventFrameStoppedLoading:
		if ev.FrameID == b.mainFrame {
			b.loading = false
			bump()
		}
	case *page.EventLoadEventFired:
		b.loads++
		bump()
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			b.documents[ev.Response.URL] = true
		}
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, remoteText(a))
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.logEntries = append(b.logEntries, ev.Entry)
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	return o.Description
}

// takeProblems returns the console errors, exceptions and CSP violations
// collected since the last call. A failed load of a page's own document is
// not one: an expired-link page answering 410 logs "Failed to load
// resource", and that status is the portal's deliberate answer; nor is
// the /favicon.ico Chromium asks for by itself.
func (b *Browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.problems
	for _, e := range b.logEntries {
		if e.Source == log.EntrySourceNetwork && (b.documents[e.URL] || isAutoFavicon(e.URL)) {
			continue
		}
		msg := fmt.Sprintf("%s %s: %s", e.Source, e.Level, e.Text)
		if e.URL != "" {
			msg += " (" + e.URL + ")"
		}
		out = append(out, msg)
	}
	b.problems, b.logEntries = nil, nil
	kept := out[:0]
next:
	for _, p := range out {
		for _, allow := range b.cfg.allowLogs {
			if strings.Contains(p, allow) {
				continue next
			}
		}
		kept = append(kept, p)
	}
	return kept
}

// isAutoFavicon reports whether u is the /favicon.ico that Chromium asks
// for by itself when a page declares no icon: no page asked for it, and no
// person sees its 404.
func isAutoFavicon(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Path == "/favicon.ico" && pu.RawQuery == ""
}

func (b *Browser) state() (signals int, loading bool, loads, checked int, changed chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.navSignals, b.loading, b.loads, b.checked, b.changed
}

// step runs one action with the step timeout; its errors fail the test.
func (b *Browser) step(what string, a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		b.t.Fatalf("browser: %s: %v (page %s)%s", what, err, b.location(), b.hint(err))
	}
}

// hint explains the usual cause of a step that timed out: the element is
// not on the page (the page moved on by itself, or the selector is wrong).
func (b *Browser) hint(err error) string {
	if !errors.Is(err, context.DeadlineExceeded) {
		return ""
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	title, _ := chromedp.Run(ctx, chromedp.Title())
	return fmt.Sprintf("\n  the step waited %s for its element; the page now shown is %q. "+
		"If a form submitted itself (a code field does at six digits), wait with WaitLocation instead.", b.cfg.timeout, title)
}

func stepValue[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v (page %s)", what, err, b.location())
	}
	return v
}

func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

func (b *Browser) url(u string) string {
	if strings.HasPrefix(u, "/") && b.cfg.baseURL != "" {
		return b.cfg.baseURL + u
	}
	return u
}

// Visit loads the URL (or a path, with At) and checks the page.
func (b *Browser) Visit(u string) {
	b.t.Helper()
	b.before()
	b.step("visit "+u, chromedp.Navigate(b.url(u)))
	b.PageLoaded()
}

// Run runs chromedp actions on the tab. A page they load is checked before
// the next step (or call PageLoaded to check it at once).
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.before()
	b.step("run", chromedp.Steps(actions...))
	b.afterAction()
}

// Text returns the visible text of the first element matching the CSS
// selector, waiting for it to be visible.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	b.before()
	b.step("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(stepValue(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// Value returns the value of the form field matching the CSS selector.
func (b *Browser) Value(sel string) string {
	b.t.Helper()
	b.before()
	return stepValue(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// Attribute returns an attribute of the first element matching the CSS
// selector ("" when it has none).
func (b *Browser) Attribute(sel, name string) string {
	b.t.Helper()
	b.before()
	r := stepValue(b, "attribute "+name+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name))
	return r.Value
}

// Count returns how many elements match the CSS selector now, without
// waiting.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	b.before()
	js := fmt.Sprintf("document.querySelectorAll(%q).length", sel)
	return stepValue(b, "count "+sel, chromedp.Evaluate[int](js))
}

// Eval evaluates a JavaScript expression in the page and returns its
// result decoded into T.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	b.before()
	return stepValue(b, "evaluate "+js, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// WaitVisible waits until an element matching the CSS selector is visible.
// A page loaded in the meantime is checked.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.before()
	b.step("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	b.afterAction()
}

// WaitNotPresent waits until no element matches the CSS selector.
func (b *Browser) WaitNotPresent(sel string) {
	b.t.Helper()
	b.before()
	b.step("wait for "+sel+" to go", chromedp.WaitNotPresent(chromedp.CSS(sel)))
	b.afterAction()
}

// Click clicks the first visible element matching the CSS selector, as a
// mouse (or, at phone size, a finger) would. When the click starts a page
// load it waits for the new page and checks it.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.before()
	b.step("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	b.afterAction()
}

// ClickAndWait clicks like Click and then waits for a new page to load,
// failing the test if none does. Use it for links and submit buttons.
func (b *Browser) ClickAndWait(sel string) {
	b.t.Helper()
	b.before()
	b.navigateBy("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// SetValue sets a form field's value in one go, as pasting does: no key
// events, but the page's input and change listeners run (chromedp fires
// both). So a code field that submits itself at six digits submits here
// too; SetValue then waits for the next page and checks it, and the test
// goes on with WaitLocation or the next page's elements, not a click on the
// old page's button.
func (b *Browser) SetValue(sel, v string) {
	b.t.Helper()
	b.before()
	b.step("set "+sel, chromedp.SetValue(chromedp.CSS(sel), v))
	b.afterAction()
}

// SendKeys focuses the field matching the CSS selector and types v, as a
// person would; scripts listening to input events see every key. When the
// typing makes the page submit itself, follow with WaitLocation.
func (b *Browser) SendKeys(sel, v string) {
	b.t.Helper()
	b.before()
	b.step("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible))
	b.afterAction()
}

// Submit submits the form that holds the element matching the CSS
// selector, with its submit button as a person would (requestSubmit, so
// validation and submit handlers run), and waits for the next page.
func (b *Browser) Submit(sel string) {
	b.t.Helper()
	b.before()
	// The submitter is the element itself when it is a submit button,
	// else the form's first one, so its name and value are sent too.
	js := fmt.Sprintf(`(() => {
  const e = document.querySelector(%q);
  const f = e.form || e.closest("form") || e;
  const isSubmit = (e.type === "submit" || e.type === "image") && e.form === f;
  f.requestSubmit(isSubmit ? e : (f.querySelector("[type=submit]") || undefined));
})()`, sel)
	b.navigateBy("submit "+sel, chromedp.Steps(
		chromedp.WaitReady(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](js),
	))
}

// WaitLocation waits until the page's URL contains substr (for example
// after typing into a field that submits its form by itself), then checks
// the page. Prefer it to waiting for an element that the old page has too.
func (b *Browser) WaitLocation(substr string) {
	b.t.Helper()
	b.before()
	// Poll from here, not in the page: the page is replaced while we wait.
	deadline := time.Now().Add(b.cfg.timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		u, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && strings.Contains(u, substr) {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: no page with %q in its URL within %s (page %s)", substr, b.cfg.timeout, u)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.checkIfLoaded(true)
}

// Back goes back one page in the history, as the browser's back button
// does, and checks the page.
func (b *Browser) Back() {
	b.t.Helper()
	b.before()
	b.step("back", chromedp.NavigateBack())
	b.PageLoaded()
}

// Reload loads the page again and checks it.
func (b *Browser) Reload() {
	b.t.Helper()
	b.before()
	b.step("reload", chromedp.Reload())
	b.PageLoaded()
}

// Location returns the URL of the page.
func (b *Browser) Location() string {
	b.t.Helper()
	b.before()
	return stepValue(b, "location", chromedp.Location())
}

// Title returns the page's title.
func (b *Browser) Title() string {
	b.t.Helper()
	b.before()
	return stepValue(b, "title", chromedp.Title())
}

// Screenshot saves a PNG of the whole page, for looking at a failure.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	png := stepValue(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// navigateBy runs the action and waits for the page load it causes.
func (b *Browser) navigateBy(what string, a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	_, _, loads, _, _ := b.state()
	b.step(what, a)
	b.waitLoad(what, loads)
	b.PageLoaded()
}

// waitLoad waits for a load event after the first `loads` and for the
// main frame to stop loading.
func (b *Browser) waitLoad(what string, loads int) {
	b.t.Helper()
	deadline := time.After(b.cfg.timeout)
	for {
		_, loading, l, _, changed := b.state()
		if l > loads && !loading {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			b.t.Fatalf("browser: %s: no new page loaded within %s (page %s)", what, b.cfg.timeout, b.location())
		}
	}
}

// before checks a page that loaded since the last check (for example after
// a script navigated), so no page escapes the checks.
func (b *Browser) before() {
	b.t.Helper()
	b.checkIfLoaded(true)
}

// afterAction gives an action a moment to start a navigation; if it does,
// it waits for the page and checks it.
func (b *Browser) afterAction() {
	b.t.Helper()
	signals, _, loads, _, _ := b.state()
	grace := time.After(b.cfg.grace)
	for {
		s, _, _, _, changed := b.state()
		if s > signals {
			break
		}
		select {
		case <-changed:
			continue
		case <-grace:
			b.checkIfLoaded(true)
			return
		}
	}
	b.waitLoad("navigation", loads)
	b.checkIfLoaded(true)
}

// checkIfLoaded waits for a navigation in flight to finish, then checks the
// page if it has not been checked since it loaded.
func (b *Browser) checkIfLoaded(fatal bool) {
	b.t.Helper()
	deadline := time.After(b.cfg.timeout)
	for {
		_, loading, _, _, changed := b.state()
		if !loading {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			b.fail(fatal, "browser: a page load did not finish within %s (page %s)", b.cfg.timeout, b.location())
			return
		}
	}
	_, _, loads, checked, _ := b.state()
	if loads > checked {
		b.checkPage(fatal)
	} else {
		b.reportProblems(fatal)
	}
}

func (b *Browser) fail(fatal bool, format string, args ...any) {
	b.t.Helper()
	if fatal {
		b.t.Fatalf(format, args...)
	}
	b.t.Errorf(format, args...)
}

// PageLoaded checks the page now: it waits for the document to finish
// loading, runs axe-core at every configured width, and reports console
// errors and CSP violations. Visit, Click, ClickAndWait and Submit call it
// themselves; call it after a navigation done some other way.
func (b *Browser) PageLoaded() {
	b.t.Helper()
	b.checkPage(true)
}

func (b *Browser) checkPage(fatal bool) {
	b.t.Helper()
	b.mu.Lock()
	b.checked = b.loads
	signals := b.navSignals
	b.mu.Unlock()
	// A page may move on by itself while it is checked (a script that
	// submits as soon as it loads). Then the check of this page is moot:
	// the next page gets its own before the test's next step.
	movedOn := func() bool {
		s, _, _, _, _ := b.state()
		return s != signals
	}
	if err := b.waitComplete(); err != nil && !movedOn() {
		b.fail(fatal, "browser: page did not finish loading: %v (page %s)", err, b.location())
		return
	}
	b.reportProblems(fatal)
	msg, err := b.accessibilityReport()
	if err != nil && isContextGone(err) && !movedOn() {
		// Chromium swapped the document's JavaScript context under us
		// (chromedp tracks it from events); once more on the settled page.
		time.Sleep(100 * time.Millisecond)
		msg, err = b.accessibilityReport()
	}
	if err != nil && !movedOn() {
		b.fail(fatal, "browser: %v (page %s)", err, b.location())
	} else if err == nil && msg != "" {
		b.fail(fatal, "%s", msg)
	}
}

// waitComplete waits for document.readyState to be "complete". It asks
// from here rather than polling inside the page, so that a document being
// replaced meanwhile costs a retry, not an error.
func (b *Browser) waitComplete() error {
	deadline := time.Now().Add(b.cfg.timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		cancel()
		if err == nil && state == "complete" {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("readyState is %q", state)
			}
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isContextGone tells whether err says the page's JavaScript context went
// away, which happens while a new document replaces the old one.
func isContextGone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "context with specified id") || strings.Contains(s, "context was destroyed") ||
		strings.Contains(s, "navigated or closed")
}

func (b *Browser) reportProblems(fatal bool) {
	b.t.Helper()
	if ps := b.takeProblems(); len(ps) > 0 {
		b.fail(fatal, "browser: the page %s reported errors (console, exceptions, Content-Security-Policy):\n  %s",
			b.location(), strings.Join(ps, "\n  "))
	}
}

// CheckAccessibility runs axe-core on the page now, at every configured
// width, and fails the test on any violation.
func (b *Browser) CheckAccessibility() {
	b.t.Helper()
	msg, err := b.accessibilityReport()
	if err != nil {
		b.t.Fatalf("browser: %v (page %s)", err, b.location())
	}
	if msg != "" {
		b.t.Fatalf("%s", msg)
	}
}

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target         []any  `json:"target"`
		HTML           string `json:"html"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

// accessibilityReport runs axe at each width and describes the violations,
// or returns "" when there are none. An error means axe could not run.
func (b *Browser) accessibilityReport() (string, error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*b.cfg.timeout)
	defer cancel()
	var report strings.Builder
	for _, vp := range b.cfg.a11yAt {
		if vp != b.cfg.viewport {
			if _, err := chromedp.Run(ctx, emulate(vp)); err != nil {
				return "", fmt.Errorf("emulate %s: %w", vp.Name, err)
			}
		}
		vs, err := b.runAxe(ctx)
		if vp != b.cfg.viewport {
			if _, err := chromedp.Run(ctx, emulate(b.cfg.viewport)); err != nil {
				return "", fmt.Errorf("emulate %s: %w", b.cfg.viewport.Name, err)
			}
		}
		if err != nil {
			return "", fmt.Errorf("axe-core at %s width: %w", vp.Name, err)
		}
		for _, v := range vs {
			fmt.Fprintf(&report, "\n  [%s width] %s (%s): %s\n    %s", vp.Name, v.ID, v.Impact, v.Help, v.HelpURL)
			for _, n := range v.Nodes {
				fmt.Fprintf(&report, "\n    at %v: %s", n.Target, n.HTML)
				if n.FailureSummary != "" {
					fmt.Fprintf(&report, "\n      %s", strings.ReplaceAll(n.FailureSummary, "\n", "\n      "))
				}
			}
		}
	}
	if report.Len() == 0 {
		return "", nil
	}
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return "accessibility violations (axe-core) on " + u + ":" + report.String(), nil
}

func (b *Browser) runAxe(ctx context.Context) ([]axeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		// DevTools evaluation is not subject to the page's CSP, so axe
		// runs on the real page with the real policy.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](b.axe, chromedp.EvalIgnoreExceptions)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// emulate sets the viewport, touch and user agent of a phone or a desktop.
func emulate(vp Viewport) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
		if vp.Mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		} else {
			opts = append(opts, chromedp.EmulateLandscape)
		}
		if _, err := chromedp.EmulateViewport(vp.Width, vp.Height, opts...)(ctx, t); err != nil {
			return err
		}
		ua, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: "navigator.userAgent", ReturnByValue: ptr(true)})
		if err != nil {
			return err
		}
		var agent string
		if err := json.Unmarshal(ua.Result.Value, &agent); err != nil {
			return err
		}
		agent = desktopAgent(agent)
		if vp.Mobile {
			agent = strings.Replace(agent, "(X11; Linux x86_64)", "(Linux; Android 14; Pixel 7)", 1)
			agent = strings.Replace(agent, " Safari/", " Mobile Safari/", 1)
		}
		_, err = cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: agent})
		return err
	})
}

// desktopAgent undoes a previous phone override and drops "Headless", so
// pages see the agent a person's browser would send.
func desktopAgent(a string) string {
	a = strings.Replace(a, "(Linux; Android 14; Pixel 7)", "(X11; Linux x86_64)", 1)
	a = strings.Replace(a, " Mobile Safari/", " Safari/", 1)
	return strings.Replace(a, "HeadlessChrome/", "Chrome/", 1)
}

func ptr[T any](v T) *T { return &v }

// loadAxe reads axe-core from $PORTAL_TEST_TOOLS or <repo root>/.test-tools.
func loadAxe(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PORTAL_TEST_TOOLS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), ".test-tools")
	}
	p := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `make test-tools`", err)
	}
	return string(src)
}

// RepoRoot returns the directory holding go.mod, walking up from the test's
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// AddVirtualAuthenticator plugs a virtual USB security key (CTAP2, resident
// keys, user verification, touched automatically) into the browser and
// returns its id.
func (b *Browser) AddVirtualAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: ptr(false)}); err != nil {
		b.t.Fatalf("webauthn enable: %v", err)
	}
	r, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportUsb,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("add virtual authenticator: %v", err)
	}
	return r.AuthenticatorID
}

// Credentials lists the credentials the virtual authenticator holds.
func (b *Browser) Credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	r, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.t.Fatalf("webauthn credentials: %v", err)
	}
	return r.Credentials
}
