package resiliencedebug_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

const prefix = "/debug/resilience/"

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// between returns the text between the last open and the close after it.
func between(t *testing.T, s, open, close string) string {
	t.Helper()
	i := strings.LastIndex(s, open)
	require.GreaterOrEqual(t, i, 0, "no %s", open)
	rest := s[i+len(open):]
	j := strings.Index(rest, close)
	require.GreaterOrEqual(t, j, 0, "no %s", close)
	return rest[:j]
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func TestPageIsSelfContainedUnderAStrictCSP(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	rec := get(t, d, prefix)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Equal(t, resiliencedebug.CSP, csp)
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotContains(t, csp, "unsafe")
	assert.Contains(t, csp, "style-src "+sha(between(t, body, "<style>", "</style>")), "the inline style's hash")
	assert.Contains(t, csp, "script-src "+sha(between(t, body, "<script>", "</script>")), "the inline script's hash")
	for _, external := range []string{"http://", "https://", "src=", "href=", "@import"} {
		assert.NotContains(t, strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), external, "no external asset")
	}
	assert.Equal(t, 2, strings.Count(body, "<script"), "the snapshot's data and the page's script")
	assert.Contains(t, body, `<script type="application/json" id="initial">{"window_seconds":10`)
}

// A name holding markup cannot run in the page: it reaches it only as JSON
// with <, > and & escaped, and the script sets it as text.
func TestMarkupInANameIsInertInHTMLAndJSON(t *testing.T) {
	const name = `</script><script>alert(1)</script><img src=x onerror=alert(2)>&amp;`
	d := resiliencedebug.New(resiliencedebug.Config{})
	d.Register(name, breaker.New(breaker.Config{Name: name, Observer: d}))
	call(d, "retry", name, time.Millisecond, nil)

	page := get(t, d, prefix).Body.String()
	assert.NotContains(t, page, "alert(1)</script>")
	assert.NotContains(t, page, "<img")
	assert.Equal(t, 2, strings.Count(page, "<script"), "no script element but the page's own")
	assert.Contains(t, page, `\u003c/script\u003e\u003cscript\u003ealert(1)`)
	assert.NotContains(t, between(t, page, "<script>", "</script>"), "innerHTML", "the page's script never parses data as markup")

	raw := get(t, d, prefix+"snapshot.json")
	assert.Equal(t, "application/json", raw.Header().Get("Content-Type"))
	assert.NotContains(t, raw.Body.String(), "<")
	assert.NotContains(t, raw.Body.String(), ">")
	var snap resiliencedebug.Snapshot
	require.NoError(t, json.Unmarshal(raw.Body.Bytes(), &snap))
	require.Len(t, snap.Policies, 2)
	assert.Equal(t, name, snap.Policies[0].Name, "the name itself comes back")
}

func TestSnapshotJSON(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	call(d, "timeout", "db", 2*time.Millisecond, nil)
	rec := get(t, d, "/admin/dash/snapshot.json")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var snap map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &snap))
	assert.Equal(t, float64(10), snap["window_seconds"])
	assert.Equal(t, false, snap["actions"])
	tl := snap["policies"].([]any)[0].(map[string]any)
	assert.Equal(t, "timeout", tl["policy"])
	assert.Equal(t, float64(1), tl["calls"])
	assert.NotContains(t, tl, "breaker")
	assert.NotContains(t, tl, "in_flight")
}

func TestRoutesAndMethods(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	for _, tc := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, prefix, 200, ""},
		{http.MethodHead, prefix, 200, ""},
		{http.MethodGet, prefix + "snapshot.json", 200, ""},
		{http.MethodGet, prefix + "nothing", 404, ""},
		{http.MethodGet, prefix + "events/x", 404, ""},
		{http.MethodPost, prefix, 405, "GET, HEAD"},
		{http.MethodDelete, prefix + "snapshot.json", 405, "GET, HEAD"},
		{http.MethodPost, prefix + "events", 405, "GET"},
		{http.MethodPost, prefix + "action", 404, ""}, // actions not enabled
		{http.MethodGet, prefix + "action", 404, ""},
	} {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		assert.Equal(t, tc.code, rec.Code, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.allow, rec.Header().Get("Allow"), "%s %s", tc.method, tc.path)
	}
}

// actionDash is a dashboard with actions, authorizing requests that carry
// the header X-Admin: yes, over a breaker named "db".
func actionDash(t *testing.T) (*resiliencedebug.Dashboard, *breaker.Breaker) {
	t.Helper()
	d := resiliencedebug.New(resiliencedebug.Config{
		Actions:   true,
		Authorize: func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" },
	})
	b := breaker.New(breaker.Config{Name: "db"})
	d.Register("db", b)
	d.Register("api", &limiter{})
	return d, b
}

func action(d http.Handler, method, body string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://dash.example"+prefix+"action", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Admin", "yes")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Origin", "http://dash.example")
	for k, v := range headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, r)
	return rec
}

func TestActionsChangeTheBreaker(t *testing.T) {
	d, b := actionDash(t)
	assert.True(t, d.Snapshot().Actions)

	rec := action(d, http.MethodPost, `{"name":"db","action":"force-open"}`, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"name":"db","state":"open"}`, rec.Body.String())
	assert.True(t, b.Metrics().ForcedOpen)

	rec = action(d, http.MethodPost, `{"name":"db","action":"disable"}`, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"name":"db","state":"closed"}`, rec.Body.String())
	assert.True(t, b.Metrics().Disabled)

	b.ForceOpen()
	rec = action(d, http.MethodPost, `{"name":"db","action":"reset"}`, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State)
	assert.False(t, m.ForcedOpen)
	assert.False(t, m.Disabled)

	// A client that is not a browser sends neither Sec-Fetch-Site nor
	// Origin: it cannot be a cross-site forgery, and Authorize decides.
	rec = action(d, http.MethodPost, `{"name":"db","action":"force-open"}`, map[string]string{"Sec-Fetch-Site": "", "Origin": ""})
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestActionsRefuseWhatIsNotAllowed(t *testing.T) {
	d, b := actionDash(t)
	good := `{"name":"db","action":"force-open"}`
	for _, tc := range []struct {
		what    string
		method  string
		body    string
		headers map[string]string
		code    int
	}{
		{"GET", http.MethodGet, "", nil, 405},
		{"PUT", http.MethodPut, good, nil, 405},
		{"cross-site fetch", http.MethodPost, good, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site but another origin", http.MethodPost, good, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"another origin, old browser", http.MethodPost, good, map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, 403},
		{"not authorized", http.MethodPost, good, map[string]string{"X-Admin": "no"}, 403},
		{"a form post", http.MethodPost, "name=db&action=force-open", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"no content type", http.MethodPost, good, map[string]string{"Content-Type": ""}, 415},
		{"malformed JSON", http.MethodPost, `{"name":"db",`, nil, 400},
		{"not an object", http.MethodPost, `"reset"`, nil, 400},
		{"an unknown field", http.MethodPost, `{"name":"db","action":"reset","force":true}`, nil, 400},
		{"two objects", http.MethodPost, good + good, nil, 400},
		{"too large", http.MethodPost, `{"name":"` + strings.Repeat("x", 2000) + `","action":"reset"}`, nil, 400},
		{"empty body", http.MethodPost, "", nil, 400},
		{"unknown action", http.MethodPost, `{"name":"db","action":"explode"}`, nil, 400},
		{"unknown name", http.MethodPost, `{"name":"nope","action":"force-open"}`, nil, 404},
		{"not a breaker", http.MethodPost, `{"name":"api","action":"force-open"}`, nil, 404},
	} {
		rec := action(d, tc.method, tc.body, tc.headers)
		assert.Equal(t, tc.code, rec.Code, "%s: %s", tc.what, rec.Body.String())
		if tc.code == 405 {
			assert.Equal(t, "POST", rec.Header().Get("Allow"))
		}
	}
	assert.Equal(t, breaker.Closed, b.State(), "no refused request touched the breaker")
}

func TestActionsDisabledAnswer404(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{Authorize: func(*http.Request) bool { return true }})
	b := breaker.New(breaker.Config{})
	d.Register("db", b)
	rec := action(d, http.MethodPost, `{"name":"db","action":"force-open"}`, nil)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, breaker.Closed, b.State())
}

func TestActionsThroughARealServer(t *testing.T) {
	d, b := actionDash(t)
	mux := http.NewServeMux()
	mux.Handle(prefix, d)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(origin string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+prefix+"action", strings.NewReader(`{"name":"db","action":"force-open"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Admin", "yes")
		req.Header.Set("Origin", origin)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, post("http://evil.example"))
	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, http.StatusOK, post(srv.URL))
	assert.Equal(t, breaker.Open, b.State())
}
