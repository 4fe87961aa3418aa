package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// tidy runs go mod tidy -diff in every module of the workspace, without the
// workspace (go mod tidy ignores go.work anyway) and against the file proxy,
// since the core's release version is not published yet. It fails when any
// module's go.mod or go.sum differs from what tidy would write.
//
// The go.sum lines of the repository's own modules are left out on both
// sides: until a version is tagged its checksum is unknown, and after, the
// working tree published under that version no longer matches it. So tidy
// reads a copy of go.mod and of go.sum without those lines (-modfile), in
// the module's own directory, so that relative replace paths still resolve.
//
// With fix, tidy writes what go mod tidy would instead, keeping the go.sum
// lines of the repository's own modules as they were.
func tidy(dir, root string, ws workspace, env []string, fix bool) error {
	var failed []string
	for _, m := range ws {
		start := time.Now()
		tmp := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(m.dir))
		if fix {
			if err := tidyFix(tmp, root, m, ws, env); err != nil {
				return err
			}
			fmt.Printf("releasecheck: %s: tidied in %.1fs\n", m.dir, time.Since(start).Seconds())
			continue
		}
		diff, err := tidyDiff(tmp, root, m, ws, env)
		if err != nil {
			return err
		}
		if diff != "" {
			fmt.Printf("releasecheck: %s is not tidy (make tidy fixes it):\n%s", m.dir, diff)
			failed = append(failed, m.dir)
			continue
		}
		fmt.Printf("releasecheck: %s: tidy in %.1fs\n", m.dir, time.Since(start).Seconds())
	}
	if len(failed) > 0 {
		return fmt.Errorf("not tidy: %s", strings.Join(failed, ", "))
	}
	return nil
}

// copyModFiles copies module m's go.mod into tmp, and its go.sum without
// the lines of the repository's own modules, and returns those lines.
func copyModFiles(tmp, dir string, ws workspace) (repoSumLines []byte, err error) {
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), gomod, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), withoutRepo(sum, ws), 0o644); err != nil {
		return nil, err
	}
	return onlyRepo(sum, ws), nil
}

// tidyFix runs go mod tidy on copies of module m's go.mod and go.sum and
// writes the results back, with the module's own go.sum lines for the
// repository's modules as they were.
func tidyFix(tmp, root string, m repoModule, ws workspace, env []string) error {
	dir := filepath.Join(root, filepath.FromSlash(m.dir))
	kept, err := copyModFiles(tmp, dir, ws)
	if err != nil {
		return err
	}
	if _, err := gocmd(dir, env, "mod", "tidy", "-modfile="+filepath.Join(tmp, "go.mod")); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(tmp, "go.mod"))
	if err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(tmp, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sum = sortedSum(append(withoutRepo(sum, ws), kept...))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644); err != nil {
		return err
	}
	if len(sum) == 0 {
		err := os.Remove(filepath.Join(dir, "go.sum"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// tidyDiff returns the lines that go mod tidy would change in module m,
// without those of the repository's own modules in go.sum.
func tidyDiff(tmp, root string, m repoModule, ws workspace, env []string) (string, error) {
	dir := filepath.Join(root, filepath.FromSlash(m.dir))
	if _, err := copyModFiles(tmp, dir, ws); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "mod", "tidy", "-diff", "-modfile="+filepath.Join(tmp, "go.mod"))
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "", nil
	case !errors.As(err, &exit) || stdout.Len() == 0:
		return "", fmt.Errorf("go mod tidy -diff in %s: %w\n%s", m.dir, err, stderr.Bytes())
	}
	return changes(stdout.String(), tmp, ws), nil
}

// changes returns the changed lines of a unified diff of go.mod and go.sum,
// without the go.sum lines of the repository's own modules, and with the
// temporary directory's name replaced by the module's; "" if none is left.
func changes(diff, tmp string, ws workspace) string {
	var out strings.Builder
	var header, file string
	n := 0
	for line := range strings.Lines(diff) {
		switch {
		case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "diff "):
			continue
		case strings.HasPrefix(line, "+++ "):
			file = strings.TrimSpace(strings.TrimPrefix(line, "+++ "))
			header = "  " + filepath.Base(file) + ":\n"
			continue
		case !strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "-"):
			continue
		}
		if filepath.Base(file) == "go.sum" {
			if f := strings.Fields(line[1:]); len(f) > 0 && ws.inRepo(f[0]) {
				continue
			}
		}
		if header != "" {
			out.WriteString(header)
			header = ""
		}
		out.WriteString("  " + strings.ReplaceAll(line, tmp, "."))
		n++
	}
	if n == 0 {
		return ""
	}
	return out.String()
}
