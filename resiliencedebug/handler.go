package resiliencedebug

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// streamWriteTimeout bounds each write of the event stream: a client that
// has not taken a message within it is dropped.
const streamWriteTimeout = 10 * time.Second

// maxActionBody bounds the body of an action request.
const maxActionBody = 1 << 10

// ServeHTTP serves the dashboard. Mount it on an admin mux under a prefix
// ending in a slash, as net/http/pprof is:
//
//	mux.Handle("/debug/resilience/", dash)
//
// The last element of the request path picks what is served, so no
// http.StripPrefix is needed:
//
//	.../                the page (GET, HEAD): a tile per policy, live from the stream
//	.../snapshot.json   the [Snapshot] as JSON (GET, HEAD)
//	.../events          a text/event-stream with the snapshot every second (GET)
//	.../action          an operator action (POST, when Config.Actions is set)
//
// Anything else is 404, and a method these do not take is 405 with an
// Allow header. The page has no external assets: its CSS and script are
// inline, allowed by a Content-Security-Policy that lists their hashes and
// allows nothing else but requests to its own origin. Policy names reach the
// page only as JSON (with <, > and & escaped) and are set as text, so a name
// holding markup shows as that text.
//
// The stream sends a message at once and then every second, until the
// client goes away; a client that does not take a message within 10
// seconds is dropped. Each message is built from the counters by the
// request's goroutine: a slow or stuck client never blocks an Observe.
//
// An action is a POST with Content-Type application/json and a body such
// as {"name": "payments", "action": "reset"}, where action is
// "force-open", "disable" (force closed: admit every call) or "reset"
// (see breaker.Breaker's ForceOpen, Disable and Reset), and name that of a
// breaker given to [Dashboard.Register]. The answers:
//
//	404  actions are not enabled (Config.Actions), or no breaker is registered under name
//	405  the method is not POST
//	403  the request comes from another origin (by its Sec-Fetch-Site or Origin
//	     header, see http.CrossOriginProtection), or Config.Authorize said no
//	415  the body is not application/json
//	400  the body is malformed, has unknown fields, or names an unknown action
//	200  done: the body is {"name": ..., "state": ...}, the breaker's new state
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := r.URL.Path
	switch p[strings.LastIndexByte(p, '/')+1:] {
	case "":
		if methods(w, r, http.MethodGet, http.MethodHead) {
			d.servePage(w, r)
		}
	case "snapshot.json":
		if methods(w, r, http.MethodGet, http.MethodHead) {
			d.serveSnapshot(w)
		}
	case "events":
		if methods(w, r, http.MethodGet) {
			d.serveEvents(w, r)
		}
	case "action":
		d.serveAction(w, r)
	default:
		http.NotFound(w, r)
	}
}

// methods reports whether r's method is one of allowed, and answers 405
// otherwise.
func methods(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func (d *Dashboard) serveSnapshot(w http.ResponseWriter) {
	b, err := json.Marshal(d.Snapshot())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// serveEvents streams the snapshot every second until the client goes away
// or stops reading.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Leave no deadline behind for the connection's next request.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var buf bytes.Buffer
	for {
		buf.Reset()
		buf.WriteString("data: ")
		if err := json.NewEncoder(&buf).Encode(d.Snapshot()); err != nil {
			return
		}
		buf.WriteString("\n") // Encode ended the line; a blank line ends the message
		if err := rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// actionRequest is the body of an action.
type actionRequest struct {
	Name   string `json:"name"`
	Action string `json:"action"`
}

// serveAction runs an operator action; ServeHTTP's doc lists the answers.
func (d *Dashboard) serveAction(w http.ResponseWriter, r *http.Request) {
	if !d.cfg.Actions {
		http.NotFound(w, r)
		return
	}
	if !methods(w, r, http.MethodPost) {
		return
	}
	if err := d.cop.Check(r); err != nil {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if !d.cfg.Authorize(r) {
		http.Error(w, "not authorized", http.StatusForbidden)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		http.Error(w, "the body must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req actionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		http.Error(w, "malformed body: want {\"name\": ..., \"action\": ...}", http.StatusBadRequest)
		return
	}
	run, ok := actions[req.Action]
	if !ok {
		http.Error(w, "unknown action: want force-open, disable or reset", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	l := d.registered[key{"breaker", req.Name}]
	d.mu.Unlock()
	if l.breaker == nil {
		http.Error(w, "no breaker registered under that name", http.StatusNotFound)
		return
	}
	run(l)
	b, _ := json.Marshal(struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}{req.Name, l.breaker.State().String()})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// actions are the operator actions by name.
var actions = map[string]func(live){
	"force-open": func(l live) { l.breaker.ForceOpen() },
	"disable":    func(l live) { l.breaker.Disable() },
	"reset":      func(l live) { l.breaker.Reset() },
}
