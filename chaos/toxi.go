package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// toxiproxyModule is the Toxiproxy server the trial installs from the Go
// module proxy. Its binary is named server.
const toxiproxyModule = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"

// installToxiproxy builds the Toxiproxy server into dir and returns its path.
func installToxiproxy(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "install", toxiproxyModule)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", toxiproxyModule, err, out)
	}
	return filepath.Join(dir, "server"), nil
}

// startToxiproxy starts the Toxiproxy server on a free loopback port and
// returns a client for its API once it answers.
func startToxiproxy(ctx context.Context, ps *procs, bin string) (*toxiproxy.Client, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if _, _, err := ps.start(ctx, "toxiproxy", false, bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port)); err != nil {
		return nil, err
	}
	c := toxiproxy.NewClient("127.0.0.1:" + strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Version(); err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("toxiproxy did not answer in 10s; log: %s", ps.tail("toxiproxy"))
		}
		if err := pause(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// freePort returns a loopback TCP port nobody listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
