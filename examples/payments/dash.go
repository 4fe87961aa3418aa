package main

// -dash ADDR serves the live dashboard (resiliencedebug) of the resilient
// client's policies and of both servers' bulkheads while the demo runs:
//
//	go run ./examples/payments -dash 127.0.0.1:6060
//
// then open http://127.0.0.1:6060/debug/resilience/ — the run starts as soon
// as the page is open (or after 30 seconds). Watch the card network's
// breaker (its tile is named after the server's host:port): it turns red
// and says "open" when the outage starts, the charges retry policy's tile
// counts the rejections it waits out, the breaker goes "half-open" to probe
// and back to "open" while the network is still down, then "closed" once a
// probe succeeds. After the run the dashboard stays up, with its two
// minutes of history, until Ctrl-C.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

// dashboard is the demo's live dashboard and its HTTP server. A nil
// *dashboard does nothing: the demo runs without one.
type dashboard struct {
	dash   *resiliencedebug.Dashboard
	srv    *http.Server
	url    string
	w      io.Writer
	viewer chan struct{} // closed when a page first opens the event stream
	once   sync.Once
	served chan error
}

// startDashboard serves the dashboard on addr and says where to w.
func startDashboard(addr string, w io.Writer) (*dashboard, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	d := &dashboard{
		dash: resiliencedebug.New(resiliencedebug.Config{
			// The buttons on the breaker's tile work from this machine only.
			Actions:   true,
			Authorize: fromLoopback,
		}),
		url:    "http://" + ln.Addr().String() + "/debug/resilience/",
		w:      w,
		viewer: make(chan struct{}),
		served: make(chan error, 1),
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/resilience/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			d.once.Do(func() { close(d.viewer) })
		}
		d.dash.ServeHTTP(rw, r)
	}))
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { d.served <- d.srv.Serve(ln) }()
	fmt.Fprintf(w, "Dashboard: %s\n", d.url)
	return d, nil
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && net.ParseIP(host).IsLoopback()
}

// waitForViewer waits until a page has opened the dashboard's stream, or
// for at most max.
func (d *dashboard) waitForViewer(max time.Duration) {
	if d == nil {
		return
	}
	fmt.Fprintf(d.w, "Open it now: the run starts when the page is open, or in %v.\n\n", max)
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-d.viewer:
	case <-t.C:
	}
}

// observe returns an observer that sends every event to the dashboard as
// well as to o.
func (d *dashboard) observe(o resilience.Observer) resilience.Observer {
	if d == nil {
		return o
	}
	return resilience.ObserverFunc(func(e resilience.Event) {
		o.Observe(e)
		d.dash.Observe(e)
	})
}

// register shows a live policy's state on the dashboard (see
// resiliencedebug.Dashboard.Register).
func (d *dashboard) register(name string, p any) {
	if d != nil {
		d.dash.Register(name, p)
	}
}

// breaker shows a host's breaker on the dashboard.
func (d *dashboard) breaker(host string, b *breaker.Breaker) { d.register(host, b) }

// linger keeps the dashboard up until the process is interrupted, then
// stops its server.
func (d *dashboard) linger() {
	if d == nil {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintf(d.w, "\nThe dashboard is still up at %s — Ctrl-C to stop.\n", d.url)
	select {
	case <-ctx.Done():
	case err := <-d.served:
		fmt.Fprintln(d.w, "dashboard:", err)
		return
	}
	d.close()
}

// close stops the dashboard's server, ending its streams.
func (d *dashboard) close() {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		_ = d.srv.Close() // open event streams do not end by themselves
	}
	if err := <-d.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(d.w, "dashboard:", err)
	}
}
