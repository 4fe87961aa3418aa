package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// checkEnv returns the environment in which the go command plays a user of
// the published modules: no workspace (GOWORK=off), the file proxy first,
// then the local module cache's downloads and the usual GOPROXY for
// third-party modules, no checksum database for the repository's modules
// (what the proxy holds is the working tree, not what was or will be
// tagged), and a module cache of its own under work, so that a version
// published by an earlier run (same version, other content) is never reused.
func checkEnv(work, proxy, core string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE", "GOFLAGS", "GONOSUMDB").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	v := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(v) != 4 {
		return nil, fmt.Errorf("go env: unexpected output %q", out)
	}
	upstream, cache, flags, nosumdb := v[0], v[1], v[2], v[3]

	proxies := []string{fileURL(proxy), fileURL(filepath.Join(cache, "cache", "download"))}
	if upstream != "" && upstream != "off" {
		proxies = append(proxies, upstream)
	}
	if nosumdb != "" {
		core += "," + nosumdb
	}
	set := map[string]string{
		"GOWORK":     "off",
		"GOPROXY":    strings.Join(proxies, ","),
		"GONOSUMDB":  core,
		"GONOPROXY":  "none", // a pattern no module matches: GOPRIVATE must not send ours past the proxy
		"GOMODCACHE": filepath.Join(work, "modcache"),
		// -trimpath keeps the module cache's directory out of the build
		// cache's keys, so a later run reuses what an earlier one compiled.
		"GOFLAGS": strings.TrimSpace(flags + " -mod=mod -modcacherw -trimpath"),
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); set[k] == "" {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env, nil
}

// fileURL returns the file:// URL of an absolute directory ("file:///C:/x"
// on Windows, whose paths do not start with a slash).
func fileURL(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return "file://" + p
}

// goOutput runs the go command in dir with env and returns its standard
// output; the error carries its standard error.
func goOutput(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return out, nil
}

// gocmd runs the go command in dir with env; the error carries the
// command's output.
func gocmd(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out, nil
}
