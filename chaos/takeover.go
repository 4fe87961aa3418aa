package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// takeover runs the extra phase: replica a claims an order's key and holds
// its charge back; a is then cut off from the store for longer than the
// lease; the client sends the order again to replica b, which takes the key
// over once a's lease has ended, with a higher fence, and charges. Then a
// writes with its old fence, and the ledger must refuse it. Last, a is
// back on the store and must replay b's receipt.
func (t *trial) takeover(ctx context.Context) (tk takeover) {
	key := t.store + "-takeover-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	tk.Key = key
	o := order{OrderID: "takeover-" + t.store, AmountCents: orderAmount, HoldOn: replicaNames[0]}
	bound := 6 * t.o.lease
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()

	stale := make(chan outcome, 1)
	go func() { stale <- postKeyed(ctx, t.httpProxy[0].Listen, key, o, bound) }()

	beginCtx, cancelBegin := context.WithTimeout(ctx, 10*time.Second)
	begun, ok := t.ledger.waitBegun(beginCtx.Done(), o.OrderID)
	cancelBegin()
	if !ok {
		cancel()
		tk.Err = fmt.Errorf("replica a never began the held charge: %s", <-stale)
		return tk
	}
	tk.StaleFence = begun.Fence
	if err := disable(t.storeProxy[0]); err != nil {
		tk.Err = err
		return tk
	}

	// The client retries on replica b until the key is taken over.
	var won outcome
	for {
		won = postKeyed(ctx, t.httpProxy[1].Listen, key, o, 5*time.Second)
		if won.err == nil && won.status == http.StatusCreated {
			break
		}
		if pause(ctx, 250*time.Millisecond) != nil {
			tk.Err = fmt.Errorf("replica b never took the key over: %s", won)
			return tk
		}
	}
	tk.NewFence = won.receipt.Fence

	select {
	case s := <-stale:
		if s.status == http.StatusCreated {
			tk.Err = fmt.Errorf("the stale owner's charge went through: %s", s)
		}
		tk.StaleTold = s.leaseLost
	case <-ctx.Done():
		tk.Err = errors.New("the stale owner never answered")
	}
	tk.StaleRefused = len(t.ledger.refusals(begun.Key))
	tk.Charges = t.ledger.times(o.OrderID)

	if err := t.storeProxy[0].Enable(); err != nil && tk.Err == nil {
		tk.Err = err
	}
	// Back on the store, replica a replays b's receipt.
	for {
		r := postKeyed(ctx, t.httpProxy[0].Listen, key, o, 5*time.Second)
		if r.err == nil && r.status == http.StatusCreated {
			tk.Replayed = r.receipt.ChargeID == won.receipt.ChargeID && r.replayed
			break
		}
		if pause(ctx, 250*time.Millisecond) != nil {
			if tk.Err == nil {
				tk.Err = fmt.Errorf("replica a did not replay: %s", r)
			}
			break
		}
	}
	return tk
}

// postKeyed sends o to addr once with key in its Idempotency-Key header
// (an RFC 8941 string), within limit.
func postKeyed(ctx context.Context, addr, key string, o order, limit time.Duration) (out outcome) {
	start := time.Now()
	defer func() { out.elapsed = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	b, _ := json.Marshal(o)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/charges", bytes.NewReader(b))
	if err != nil {
		out.err = err
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", strconv.Quote(key))
	resp, err := http.DefaultClient.Do(req)
	out.sent = 1
	if err != nil {
		out.err = err
		return out
	}
	defer resp.Body.Close()
	out.status = resp.StatusCode
	out.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	out.leaseLost = resp.Header.Get(leaseLostHeader) == "true"
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		out.err = err
	case resp.StatusCode == http.StatusCreated:
		out.err = json.Unmarshal(body, &out.receipt)
	}
	return out
}
