package web_test

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

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser tests drive Debian's chromium (headless) through the pages on an httptest server. They skip with a
// message when no chromium is installed, and fail instead when TRUSTSIGN_REQUIRE_INTEROP=1 (CI installs it).
// Screenshots of every step go to $TRUSTSIGN_SCREENSHOTS or to a temporary directory that is kept and logged.

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserStop   func()
	browserErr    error
	shotsOnce     sync.Once
	shotsDir      string
	shotsMu       sync.Mutex
	shotsTaken    []string
	chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserStop != nil {
		browserStop()
	}
	if shotsDir != "" && len(shotsTaken) > 0 {
		fmt.Printf("browser screenshots (%d) in %s\n", len(shotsTaken), shotsDir)
	}
	os.Exit(code)
}

func chromiumPath() string {
	if p := os.Getenv("TRUSTSIGN_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a fresh, isolated browser tab (its own cookies and downloads) with a time limit.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("TRUSTSIGN_REQUIRE_INTEROP") == "1" {
			t.Fatal("chromium is not installed (apt-get install chromium) and TRUSTSIGN_REQUIRE_INTEROP=1")
		}
		t.Skip("chromium is not installed (apt-get install chromium); browser tests skipped")
	}
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trustsign-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(dir),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("accept-lang", "en-US,en"), chromedp.WindowSize(1200, 900))
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		browserErr = chromedp.Do(ctx)
		browserCtx = ctx
		browserStop = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(dir) }
	})
	if browserErr != nil {
		t.Fatalf("starting chromium: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancel() })
	return tctx
}

// run runs browser actions or fails the test.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// submitAndWait clicks a button or link and waits for the page it leads to.
func submitAndWait(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		saveShot(t, ctx, "failed-"+strings.NewReplacer("#", "", " ", "_", "\"", "", "[", "", "]", "", "=", "", "/", "").Replace(sel), chromedp.CaptureScreenshot())
		t.Fatalf("click %s: %v\npage: %s", sel, err, body)
	}
}

// pressEnterAndWait focuses an element, presses Enter (keyboard use) and waits for the page it leads to.
func pressEnterAndWait(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	run(t, wctx, chromedp.Focus(chromedp.CSS(sel)))
	if _, err := chromedp.Run(wctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent("\r"))); err != nil {
		t.Fatalf("Enter on %s: %v", sel, err)
	}
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(url))
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(qctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("text of %s: %v\npage: %s", sel, err, body)
	}
	return s
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fill types into inputs: id → value.
func fill(t *testing.T, ctx context.Context, fields ...string) {
	t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		run(t, ctx, chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1]))
	}
}

// shot saves a full-page screenshot as NAME.png.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveShot(t, ctx, name, chromedp.FullScreenshot(100))
}

// shotViewport saves what the window shows (frames drawn out of process, like the PDF viewer, only show here).
func shotViewport(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveShot(t, ctx, name, chromedp.CaptureScreenshot())
}

func saveShot(t *testing.T, ctx context.Context, name string, capture chromedp.Action[[]byte]) {
	t.Helper()
	shotsOnce.Do(func() { shotsDir = screenshotDir(t) })
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(shotsDir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	shotsMu.Lock()
	shotsTaken = append(shotsTaken, p)
	shotsMu.Unlock()
	t.Logf("screenshot %s", p)
}

// download clicks a download link and returns the downloaded file's bytes.
func download(t *testing.T, ctx context.Context, sel string) []byte {
	t.Helper()
	dir := t.TempDir()
	c := chromedp.FromContext(ctx)
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	run(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir,
			BrowserContextID: c.BrowserContextID, EventsEnabled: ptr(true)})
		return err
	}), chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return b
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("download %s cancelled", sel)
		}
	}
	t.Fatalf("download %s: no progress", sel)
	return nil
}

func ptr[T any](v T) *T { return &v }

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q not found in %q", what, w, got)
		}
	}
}
