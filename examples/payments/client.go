package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/magicmagnets/resilience/fallback"
)

// client charges orders and looks up the exchange rate.
type client interface {
	// charge returns the receipt the client accepted for o.
	charge(ctx context.Context, o charge) (receipt, error)
	// rate looks up EUR/USD, as shown next to each order.
	rate(ctx context.Context) (fallback.Result[quote], error)
	close()
}

func body(o charge) []byte {
	b, _ := json.Marshal(o)
	return b
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request and reads its answer.
func send(ctx context.Context, c *http.Client, method, url string, payload []byte) (answer, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
