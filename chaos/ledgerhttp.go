package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// write is what a replica sends the ledger: a charge of Order, made under
// the idempotency key's fence (Key and Fence from idempotency.FenceFrom;
// Fence 0 for a request without a key).
type write struct {
	Key   string `json:"key"`
	Fence int64  `json:"fence"`
	Order string `json:"order"`
	// WaitMillis bounds a /wait call.
	WaitMillis int64 `json:"wait_ms,omitempty"`
}

// applied is the ledger's answer to a write it accepted.
type applied struct {
	ChargeID string `json:"charge_id"`
}

// handler serves the ledger to the replicas, on loopback, with no proxy in
// between:
//
//	POST /apply  a write; 200 with the charge id, or 409 when its fence is stale
//	POST /begin  the owner of Key with Fence begins a held charge; 204
//	POST /wait   waits up to WaitMillis for a fence above Fence for Key; 204, or 504
func (l *ledger) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apply", func(w http.ResponseWriter, r *http.Request) {
		var wr write
		if !decode(w, r, &wr) {
			return
		}
		id, err := l.apply(wr.Key, wr.Fence, wr.Order)
		if stale := (*errStale)(nil); errors.As(err, &stale) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(applied{ChargeID: id})
	})
	mux.HandleFunc("POST /begin", func(w http.ResponseWriter, r *http.Request) {
		var wr write
		if !decode(w, r, &wr) {
			return
		}
		l.begin(wr)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /wait", func(w http.ResponseWriter, r *http.Request) {
		var wr write
		if !decode(w, r, &wr) {
			return
		}
		t := time.NewTimer(time.Duration(wr.WaitMillis) * time.Millisecond)
		defer t.Stop()
		done := make(chan struct{})
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(done)
			select {
			case <-t.C:
			case <-r.Context().Done():
			case <-stop:
			}
		}()
		if !l.waitAbove(done, wr.Key, wr.Fence) {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
