package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the dashboard in Debian's chromium: one browser for
// the test binary (started on first use, closed by TestMain), a fresh browser
// context (cookies included) per test.

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// browserPath finds chromium: $PATCHGATE_CHROMIUM, else on the PATH.
func browserPath() string {
	if p := os.Getenv("PATCHGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// closeBrowser ends the shared browser, if one was started.
func closeBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// newTab returns a tab in a browser context of its own, or skips the test
// when there is no browser (fails when PATCHGATE_REQUIRE_BROWSER=1, as in CI).
func newTab(t *testing.T) context.Context {
	t.Helper()
	path := browserPath()
	if path == "" {
		if os.Getenv("PATCHGATE_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium found (PATCHGATE_CHROMIUM or chromium on the PATH), and PATCHGATE_REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium: apt-get install chromium, or set PATCHGATE_CHROMIUM")
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.DisableGPU,
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.WindowSize(1100, 900))
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox)
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = bctx, func() { bcancel(); acancel() }
		// No timeout on the first call: it would stop the browser with it.
		browser.err = chromedp.Do(bctx)
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	tab, cancelTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() { saveArtifacts(t, tab) })
	return ctx
}

// saveArtifacts keeps a failed test's last page, as PNG and HTML, in
// $PATCHGATE_ARTIFACTS.
func saveArtifacts(t *testing.T, ctx context.Context) {
	dir := os.Getenv("PATCHGATE_ARTIFACTS")
	if !t.Failed() || dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	_ = os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644)
}

// run runs browser actions or fails the test, saying which step failed.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// text returns the text of the first element matching sel ("" when none).
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.textContent:""})()`, sel))
}

// count returns how many elements match sel.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// signIn signs the tab in with an API token.
func signIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/ui/signin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("actor")))
}

// signOut signs the tab out.
func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("token")))
}

// sessionCookie returns the tab's session cookie.
func sessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "patchgate_session" {
			return c
		}
	}
	t.Fatalf("no session cookie among %d cookies", len(res.Cookies))
	return nil
}

// checkNarrow loads url at 360 × 740 and fails when the page scrolls sideways.
// A shot names a screenshot to take there, "" for none.
func checkNarrow(t *testing.T, ctx context.Context, url, shot string) {
	t.Helper()
	run(t, ctx, "narrow "+url,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("main")))
	width := eval[int](t, ctx, `document.documentElement.scrollWidth`)
	if shot != "" {
		screenshot(t, ctx, shot)
	}
	run(t, ctx, "wide again", chromedp.EmulateViewport(1100, 900))
	if width > 360 {
		t.Errorf("%s at 360 px wide: got scrollWidth %d, want ≤ 360", url, width)
	}
}

// screenshot writes the current page to $PATCHGATE_SCREENSHOTS/name.png
// (`make screenshots` sets it to docs/screenshots).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PATCHGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// submit clicks a form's button and waits for the flash of the page the form
// leads to (the old page's flash is removed first, so it cannot be mistaken
// for the new one).
func submit(t *testing.T, ctx context.Context, step string, button chromedp.CSS) string {
	t.Helper()
	_ = eval[bool](t, ctx, `(function(){var f=document.getElementById("flash");if(f){f.remove()};return true})()`)
	run(t, ctx, step, chromedp.Click(button), chromedp.WaitVisible(chromedp.CSS("#flash, #error")))
	return text(t, ctx, "#flash, #error")
}
