package resiliencetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
)

func ExampleFailFirst() {
	dep := resiliencetest.FailFirst(2, errors.New("connection refused"))
	op := func(context.Context) error { return nil }
	for range 3 {
		fmt.Println(dep.Do(context.Background(), op))
	}
	fmt.Println("calls:", dep.Calls(), "injected:", dep.Injected())
	// Output:
	// connection refused
	// connection refused
	// <nil>
	// calls: 3 injected: 2
}

func ExampleAtRate() {
	// The same seed fails the same calls, run after run.
	dep := resiliencetest.AtRate(0.5, 42, resiliencetest.Fail(nil))
	for range 8 {
		if dep.Do(context.Background(), func(context.Context) error { return nil }) != nil {
			fmt.Print("x")
		} else {
			fmt.Print(".")
		}
	}
	fmt.Println()
	fmt.Println("injected:", dep.Injected())
	// Output:
	// xx.xxx.x
	// injected: 6
}

func ExampleScript() {
	dep := resiliencetest.Script(
		resiliencetest.Fail(nil),
		resiliencetest.Lose(errors.New("response lost")), // the operation runs, the caller sees an error
		resiliencetest.Pass(),
	)
	runs := 0
	op := func(context.Context) error { runs++; return nil }
	for range 4 {
		fmt.Println(dep.Do(context.Background(), op))
	}
	fmt.Println("operation ran", runs, "times")
	// Output:
	// resiliencetest: injected fault
	// response lost
	// <nil>
	// <nil>
	// operation ran 3 times
}

func ExampleWithFault() {
	dep := resiliencetest.Always(resiliencetest.Fail(nil))
	op := func(context.Context) error { return nil }
	fmt.Println(dep.Do(context.Background(), op))
	// A check at the end of a test must reach the real operation.
	fmt.Println(dep.Do(resiliencetest.WithFault(context.Background(), resiliencetest.Pass()), op))
	// Output:
	// resiliencetest: injected fault
	// <nil>
}

func ExampleRecorder() {
	var rec resiliencetest.Recorder
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3, Observer: &rec})
	p := resilience.Chain(b, resiliencetest.FailFirst(3, nil))
	for range 5 {
		err := p.Do(context.Background(), func(context.Context) error { return nil })
		fmt.Println(err, errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println(rec.StateChanges())
	fmt.Println("rejected:", rec.Count(resilience.KindRejected))
	// Output:
	// resiliencetest: injected fault false
	// resiliencetest: injected fault false
	// resiliencetest: injected fault false
	// breaker: circuit open true
	// breaker: circuit open true
	// [closed->open]
	// rejected: 2
}

func ExampleFaultyHandler() {
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"order_id":"ord-1","amount":100}`)
	})
	fh := resiliencetest.FaultyHandler(orders, resiliencetest.HandlerConfig{
		Script: []resiliencetest.HTTPFault{
			resiliencetest.Status(http.StatusServiceUnavailable, 0),
			resiliencetest.LoseResponse(),
			resiliencetest.Corrupt(resiliencetest.SetJSONField("amount", -100)),
		},
		Digest: true,
	})
	srv := httptest.NewServer(fh)
	defer srv.Close()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	for range 4 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Println("transport error")
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var o struct{ Amount int }
		_ = json.Unmarshal(body, &o)
		fmt.Println(resp.StatusCode, "amount", o.Amount, "digest ok:", resiliencehttp.VerifyDigest(resp.Header, body) == nil)
	}
	s := fh.Stats()
	fmt.Printf("requests %d: passed %d, status %d, lost %d, corrupted %d\n", s.Requests, s.Passed, s.Status, s.Lost, s.Corrupted)
	// Output:
	// 503 amount 0 digest ok: false
	// transport error
	// 200 amount -100 digest ok: true
	// 200 amount 100 digest ok: true
	// requests 4: passed 1, status 1, lost 1, corrupted 1
}

func ExampleRecorder_retrySchedule() {
	// In a test, run this inside synctest.Test and the waits take no time;
	// see the package documentation.
	var rec resiliencetest.Recorder
	p := resilience.Chain(
		retry.New(retry.Config{
			MaxAttempts: 4,
			Backoff:     backoff.Exponential(time.Millisecond, 2, time.Second),
			Observer:    &rec,
		}),
		resiliencetest.FailFirst(3, nil),
	)
	err := p.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Println(err)
	fmt.Println(rec.Delays())
	fmt.Println("retries:", rec.Count(resilience.KindRetry), "give-ups:", rec.Count(resilience.KindGiveUp))
	// Output:
	// <nil>
	// [1ms 2ms 4ms]
	// retries: 3 give-ups: 0
}
