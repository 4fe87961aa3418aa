package browser_test

import (
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

var update = flag.Bool("update", false, "also write the screenshot to docs/dashboard.png (or set UPDATE_SCREENSHOT=1)")

// browser returns the path of the Chromium to drive: CHROME_PATH, or
// chromium on PATH. Without one the test fails under CI and is skipped
// elsewhere.
func browser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no browser: set CHROME_PATH or install chromium (apt-get install -y chromium); CI must run the page test")
	}
	t.Skip("no browser (set CHROME_PATH or install chromium); this test fails instead under CI")
	return ""
}

// screenshotPaths returns where the screenshot goes: ARTIFACT_DIR, or a
// temporary folder; and docs/dashboard.png too with -update or
// UPDATE_SCREENSHOT=1.
func screenshotPaths(t *testing.T) []string {
	dir := os.Getenv("ARTIFACT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	paths := []string{filepath.Join(dir, "dashboard.png")}
	if *update || os.Getenv("UPDATE_SCREENSHOT") == "1" {
		paths = append(paths, filepath.Join("..", "..", "docs", "dashboard.png"))
	}
	return paths
}

var errDown = errors.New("card network: connection refused")

// demo is a dashboard over two dependencies with traffic: a card network
// that is down, behind a retry and a breaker that trips, and a ledger
// that answers.
type demo struct {
	dash *resiliencedebug.Dashboard
	card *breaker.Breaker
	up   atomic.Bool // the card network answers again
	stop chan struct{}
	wg   sync.WaitGroup
}

func newDemo() *demo {
	dash := resiliencedebug.New(resiliencedebug.Config{
		Actions: true,
		Authorize: func(r *http.Request) bool {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			return err == nil && net.ParseIP(host).IsLoopback()
		},
	})
	d := &demo{dash: dash, stop: make(chan struct{})}
	d.card = breaker.New(breaker.Config{Name: "card-network", ConsecutiveFailures: 5, OpenFor: time.Hour, Observer: dash})
	ledger := breaker.New(breaker.Config{Name: "ledger", Observer: dash})
	dash.Register("card-network", d.card)
	dash.Register("ledger", ledger)

	fast := retry.Config{Backoff: backoff.Constant(time.Millisecond), MaxDelay: 2 * time.Millisecond, Observer: dash}
	cardRetry, ledgerRetry := fast, fast
	cardRetry.Name, ledgerRetry.Name = "card-network", "ledger"
	card := resilience.Chain(retry.New(cardRetry), d.card)
	ledgerChain := resilience.Chain(retry.New(ledgerRetry), ledger, timeout.New(time.Second).WithObserver("ledger", dash))
	var calls int
	ctx := context.Background()
	d.wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			calls++
			_ = card.Do(ctx, func(context.Context) error {
				if d.up.Load() {
					return nil
				}
				return errDown
			})
			_ = ledgerChain.Do(ctx, func(context.Context) error {
				time.Sleep(time.Duration(1+calls%4) * time.Millisecond)
				return nil
			})
		}
	})
	return d
}

func (d *demo) close() {
	close(d.stop)
	d.wg.Wait()
}

// seconds reports how many of the last two minutes saw calls of the
// ledger's breaker.
func (d *demo) seconds() int {
	n := 0
	for _, tile := range d.dash.Snapshot().Policies {
		if tile.Policy == "breaker" && tile.Name == "ledger" {
			for _, c := range tile.History {
				if c > 0 {
					n++
				}
			}
		}
	}
	return n
}

func TestPageShowsABreakerOpenAndResetsIt(t *testing.T) {
	exe := browser(t)
	d := newDemo()
	defer d.close()
	mux := http.NewServeMux()
	mux.Handle("/debug/resilience/", d.dash)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the browser's cleanup, which ends the page's stream

	// A few seconds of traffic, for the sparklines.
	deadline := time.Now().Add(30 * time.Second)
	for d.seconds() < 4 || d.card.State() != breaker.Open {
		require.True(t, time.Now().Before(deadline), "no traffic after 30s")
		time.Sleep(50 * time.Millisecond)
	}

	ctx := open(t, exe, srv.URL+"/debug/resilience/")
	const card = `.tile[data-policy="breaker"][data-name="card-network"]`
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(card)))
	state := run(t, ctx, chromedp.Text(card+` .state`))
	colour := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('`+card+` .state')).backgroundColor`))
	violations := run(t, ctx, chromedp.Evaluate[[]string](`window.__csp`))
	shot := run(t, ctx, chromedp.FullScreenshot(100)) // 100: PNG

	assert.Equal(t, "open", state, "the tile says open in words")
	assert.Equal(t, "rgb(179, 38, 30)", colour, "the open colour")
	assert.Empty(t, violations, "Content-Security-Policy violations")
	for _, p := range screenshotPaths(t) {
		require.NoError(t, os.WriteFile(p, shot, 0o644))
		t.Logf("screenshot: %s", p)
	}

	d.up.Store(true) // the network is back: the operator closes the breaker
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(card+` button[data-action="reset"]`),
		chromedp.WaitVisible(card+`[data-state="closed"]`),
	))
	state = run(t, ctx, chromedp.Text(card+` .state`))
	assert.Equal(t, "closed", state)
	assert.Equal(t, breaker.Closed, d.card.State(), "the click reset the breaker itself")

	// On a phone's width the tiles stack in one column and nothing needs a
	// sideways scroll.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)))
	overflow := run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	columns := run(t, ctx, chromedp.Evaluate[int](`getComputedStyle(document.getElementById("tiles")).gridTemplateColumns.split(" ").length`))
	assert.False(t, overflow, "the page is wider than a phone")
	assert.Equal(t, 1, columns)
}

// run runs a on ctx's tab and returns its value, failing the test on an
// error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// open starts a headless Chromium, loads url in a tab and waits for the
// page's stream to deliver its first message. It returns the tab's
// context; the test's cleanup stops the browser.
func open(t *testing.T, exe, url string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1200, 640))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)

	// Collect the page's Content-Security-Policy violations from before its
	// first script runs.
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
		})
		return err
	})))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(`header [data-live="1"]`), // the stream's first message arrived
	))
	return ctx
}

func TestPageShowsMarkupInANameAsText(t *testing.T) {
	exe := browser(t)
	const name = `<img src=x id=injected><script>document.title="owned"</script>`
	dash := resiliencedebug.New(resiliencedebug.Config{})
	dash.Register(name, breaker.New(breaker.Config{Name: name, Observer: dash}))
	srv := httptest.NewServer(dash)
	t.Cleanup(srv.Close)

	ctx := open(t, exe, srv.URL+"/")
	title := run(t, ctx, chromedp.Text(`.tile h2`))
	injected := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("injected") !== null || document.title === "owned"`))
	violations := run(t, ctx, chromedp.Evaluate[[]string](`window.__csp`))
	assert.Equal(t, name, title, "the name shows as text")
	assert.False(t, injected, "the name's markup is not parsed")
	assert.Empty(t, violations, "Content-Security-Policy violations")
}
