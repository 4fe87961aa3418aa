// Package resiliencedebug is a live dashboard of the resilience policies of
// a process: a page with one tile per policy (a breaker's state in colour
// and in words, request, error and rejection rates, a two-minute sparkline,
// p50 and p99 latency, in-flight calls and limits), a JSON snapshot, and a
// text/event-stream that updates the page every second.
//
// A [Dashboard] is a resilience.Observer: give it to the policies whose
// events it should count, register the live policies whose state it should
// read, and mount it on an admin mux, as net/http/pprof is:
//
//	dash := resiliencedebug.New(resiliencedebug.Config{})
//	b := breaker.New(breaker.Config{Name: "payments", Observer: dash})
//	r := retry.New(retry.Config{Name: "payments", Observer: dash})
//	dash.Register("payments", b)
//
//	admin := http.NewServeMux()
//	admin.Handle("/debug/resilience/", dash)
//	go http.ListenAndServe("127.0.0.1:6060", admin)
//
// The dashboard counts per (Policy, Name) pair of the events, in a rolling
// window of 10 one-second buckets, with a fixed-bin latency histogram and
// 120 seconds of call counts; an event of a known pair allocates nothing.
// There is no global registry: each Dashboard knows only the policies that
// report to it and the ones given to [Dashboard.Register].
//
// The page loads nothing from elsewhere and runs under a strict
// Content-Security-Policy. Operator actions on registered breakers (force
// open, disable, reset) are off unless Config.Actions is set, which needs a
// Config.Authorize function; they are POST requests from the page's own
// origin only. The dashboard reveals the names and health of dependencies:
// serve it on an admin listener or behind authentication, not on the
// public one.
//
// The dashboard's memory is bounded: past Config.MaxNames pairs, events of
// new pairs are counted together in one "other" tile. A client of the event
// stream that stops reading is dropped after 10 seconds and never slows the
// policies: Observe only adds to counters under a short per-pair lock.
package resiliencedebug
