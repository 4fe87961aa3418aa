package resiliencehttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// Hedged GETs: a request still unanswered after 20ms gets a second copy,
// and the first answer wins. A POST is never hedged: it goes out once,
// however slow.
func ExampleNew_hedging() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // the first request lands on a stalled server
			<-r.Context().Done()
			return
		}
		if r.Method == http.MethodPost {
			time.Sleep(50 * time.Millisecond) // slow, but not hedged
		}
		fmt.Fprint(w, "hello from request ", calls.Load())
	}))
	defer srv.Close()

	budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1}) // hedges and retries share it
	tr := resiliencehttp.New(resiliencehttp.Config{
		PerHost: func(host string) resilience.Policy {
			return resilience.Chain(
				timeout.New(5*time.Second),
				hedge.New(hedge.Config{Name: host, Delay: 20 * time.Millisecond, Budget: budget}),
				breaker.New(breaker.Config{Name: host}),
				timeout.New(time.Second),
			)
		},
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))

	resp, err = client.Post(srv.URL, "text/plain", strings.NewReader("order"))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body), "of", calls.Load())
	// Output:
	// hello from request 2
	// hello from request 3 of 3
}
