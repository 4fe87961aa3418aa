package resiliencetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
)

type orderReply struct {
	OrderID string `json:"order_id"`
	Amount  int    `json:"amount"`
}

// A client that checks the digest, decodes and validates every answer
// survives every kind of server fault by retrying, and the handler's
// counters account for each one.
func TestRecipeClientSurvivesEveryServerFault(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{
		Digest: true,
		Script: []resiliencetest.HTTPFault{
			resiliencetest.Status(http.StatusServiceUnavailable, 0),
			resiliencetest.Drop(),
			resiliencetest.LoseResponse(),
			resiliencetest.ResetBody(5),
			resiliencetest.Truncate(10),
			resiliencetest.Corrupt(resiliencetest.SetJSONField("amount", -100)),
			resiliencetest.Corrupt(resiliencetest.SetJSONField("order_id", "ord-other")),
			resiliencetest.WrongDigest(),
		},
	})
	fetch := func(ctx context.Context) (orderReply, error) {
		var r orderReply
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return r, resilience.Permanent(err)
		}
		resp, body, err := do(c, req)
		if err != nil {
			return r, err
		}
		if resp.StatusCode != http.StatusOK {
			return r, fmt.Errorf("status %d", resp.StatusCode)
		}
		if err := resiliencehttp.VerifyDigest(resp.Header, body); err != nil {
			return r, err
		}
		return r, json.Unmarshal(body, &r)
	}
	check := func(r orderReply) error {
		if r.OrderID != "ord-1" || r.Amount <= 0 {
			return errors.New("order does not match the request")
		}
		return nil
	}
	var rec resiliencetest.Recorder
	p := retry.New(retry.Config{MaxAttempts: 10, Backoff: backoff.Constant(0), Observer: &rec})

	got, err := resilience.DoValue(context.Background(), p, resilience.Validate(fetch, check))

	require.NoError(t, err)
	assert.Equal(t, orderReply{OrderID: "ord-1", Amount: 100}, got)
	srv.Close()
	s := fh.Stats()
	assert.Equal(t, resiliencetest.Stats{
		Requests: 9, Passed: 1, Status: 1, Dropped: 1, Lost: 1, Reset: 1, Truncated: 1, Corrupted: 2, WrongDigest: 1,
	}, s)
	assert.Equal(t, s.Injected(), rec.Count(resilience.KindRetry), "one retry per injected fault")
	assert.EqualValues(t, 7, o.runs.Load(), "every fault but the status and the drop ran the handler")
}
