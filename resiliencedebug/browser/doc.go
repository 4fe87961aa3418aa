// Package browser tests the resiliencedebug page in a real browser: a
// headless Chromium, driven with chromedp, loads a dashboard over a breaker
// that has tripped, waits for the page's event stream, checks the tile says
// "open" in words and in the open colour, resets the breaker with the
// tile's button and checks it says "closed"; it also checks the page raises
// no Content-Security-Policy violation, shows markup in a policy name as
// text, and fits a phone's width.
//
// It is its own module so that the core's go.mod stays free of chromedp.
// The browser is CHROME_PATH, or chromium on PATH (apt-get install -y
// chromium; .ci/services.sh installs it and sets CHROME_PATH). Without one
// the tests fail when CI is set and are skipped otherwise.
//
// The screenshot of the dashboard goes to ARTIFACT_DIR/dashboard.png, or to
// a temporary folder; to refresh the README's docs/dashboard.png:
//
//	cd resiliencedebug/browser && go test -run TestPage -args -update
//
// (or UPDATE_SCREENSHOT=1 go test ./resiliencedebug/browser/).
package browser
