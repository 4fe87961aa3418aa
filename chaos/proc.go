package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs are the processes the driver started. Each is stopped by its own
// PID: SIGTERM, then SIGKILL if it has not exited within a few seconds.
type procs struct {
	dir  string // logs
	mu   sync.Mutex
	list []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
}

// start runs name with args, its stderr (and stdout, unless it is read)
// going to a log file in p.dir. With readLine set, it waits for the first
// line the process prints on stdout and returns it.
func (p *procs) start(ctx context.Context, name string, readLine bool, prog string, args ...string) (*proc, string, error) {
	logf, err := os.Create(filepath.Join(p.dir, name+".log"))
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(prog, args...)
	cmd.Stderr = logf
	setParentDeath(cmd)
	var stdout io.ReadCloser
	if readLine {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			logf.Close()
			return nil, "", err
		}
	} else {
		cmd.Stdout = logf
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()

	lines := make(chan string, 1)
	go func() {
		if stdout != nil {
			sc := bufio.NewScanner(stdout)
			if sc.Scan() {
				lines <- strings.TrimSpace(sc.Text())
			}
			close(lines)
			_, _ = io.Copy(logf, stdout)
		}
		_ = cmd.Wait()
		logf.Close()
		close(pr.done)
	}()
	if !readLine {
		return pr, "", nil
	}
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case line, ok := <-lines:
		if !ok || line == "" {
			return pr, "", fmt.Errorf("%s: %w (log: %s)", name, errNoAddr, p.tail(name))
		}
		return pr, line, nil
	case <-t.C:
		return pr, "", fmt.Errorf("%s printed nothing in 30s", name)
	case <-ctx.Done():
		return pr, "", ctx.Err()
	}
}

// stop stops pr by its PID and waits for it to exit.
func (pr *proc) stop() {
	select {
	case <-pr.done:
		return
	default:
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-pr.done:
	case <-t.C:
		_ = pr.cmd.Process.Kill()
		<-pr.done
	}
}

// stopAll stops every process started, the latest first.
func (p *procs) stopAll() {
	p.mu.Lock()
	list := p.list
	p.list = nil
	p.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop()
	}
}

// tail returns the end of a process's log.
func (p *procs) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, name+".log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}
