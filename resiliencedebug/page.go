package resiliencedebug

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

// The page around the initial snapshot.
const (
	pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>resilience dashboard</title>
<style>`
	pageBody = `</style>
</head>
<body>
<header class="top"><h1>resilience dashboard</h1><span id="status" role="status">connecting…</span></header>
<main>
<p id="empty" class="empty" hidden>No policy has reported yet.</p>
<div id="tiles"></div>
</main>
<script type="application/json" id="initial">`
	pageTail = `</script>
<script>`
	pageEnd = `</script>
</body>
</html>
`
)

// pageCSP is the page's Content-Security-Policy: its own style and script
// by hash, requests to its own origin, nothing else.
var pageCSP = "default-src 'none'; " +
	"style-src '" + hash(pageCSS) + "'; " +
	"script-src '" + hash(pageJS) + "'; " +
	"connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// hash returns the CSP source of an inline element's content.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// servePage writes the page with the current snapshot inline, so the tiles
// show before the stream's first message. json.Marshal escapes <, > and &,
// so no name can close the script element that holds it.
func (d *Dashboard) servePage(w http.ResponseWriter, _ *http.Request) {
	snap, err := json.Marshal(d.Snapshot())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	b.Grow(len(pageHead) + len(pageCSS) + len(pageBody) + len(snap) + len(pageTail) + len(pageJS) + len(pageEnd))
	b.WriteString(pageHead)
	b.WriteString(pageCSS)
	b.WriteString(pageBody)
	b.Write(snap)
	b.WriteString(pageTail)
	b.WriteString(pageJS)
	b.WriteString(pageEnd)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = io.WriteString(w, b.String())
}
