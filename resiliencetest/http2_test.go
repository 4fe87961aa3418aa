package resiliencetest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencetest"
)

// serveHTTP2 is serve over TLS with HTTP/2, where connections cannot be
// hijacked and faults abort the stream instead.
func serveHTTP2(t *testing.T, cfg resiliencetest.HandlerConfig) (*httptest.Server, *http.Client, *order) {
	t.Helper()
	o := new(order)
	srv := httptest.NewUnstartedServer(resiliencetest.FaultyHandler(o, cfg))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	c := srv.Client()
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	return srv, c, o
}

func TestDropOverHTTP2AbortsTheStream(t *testing.T) {
	srv, c, o := serveHTTP2(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.Drop()}})
	_, _, err := get(c, srv.URL)
	assert.Error(t, err)
	srv.Close()
	assert.Zero(t, o.runs.Load())
}

func TestResetBodyOverHTTP2FailsTheBodyRead(t *testing.T) {
	srv, c, _ := serveHTTP2(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(5)}})
	resp, body, err := get(c, srv.URL)
	require.NotNil(t, resp)
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, io.EOF)
	assert.Equal(t, orderJSON[:5], string(body))
}
