package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	modzip "golang.org/x/mod/zip"
)

// tagName returns the git tag of module m at version v: v for the core,
// the module's directory and v for a nested one (idempotency/pgstore/v0.1.0).
func tagName(m repoModule, v string) string {
	if m.dir == "." {
		return v
	}
	return m.dir + "/" + v
}

// hasTag reports whether the repository at root has the tag; false also
// when root is not a git repository or git is missing, so that the check
// then publishes the working tree.
func hasTag(root, tag string) bool {
	out, err := exec.Command("git", "-C", root, "tag", "--list", tag).Output()
	return err == nil && strings.TrimSpace(string(out)) == tag
}

// tagFiles returns the files of module m as the tag has them, read with git
// archive as the go command reads a tagged module, nested modules still
// among them (modzip.Create leaves those out).
func tagFiles(root string, m repoModule, tag string) ([]modzip.File, error) {
	cmd := exec.Command("git", "-c", "core.autocrlf=input", "-c", "core.eol=lf", "archive", "--format=zip", tag)
	prefix := ""
	if m.dir != "." {
		prefix = m.dir + "/"
		cmd.Args = append(cmd.Args, m.dir)
	}
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git archive %s: %w\n%s", tag, err, stderr.Bytes())
	}
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		return nil, err
	}
	var files []modzip.File
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || name == "" || strings.HasSuffix(name, "/") {
			continue
		}
		files = append(files, archived{name, f})
	}
	return files, nil
}

// archived is a file of a git archive, as modzip.Create reads it.
type archived struct {
	name string
	f    *zip.File
}

func (a archived) Path() string                 { return a.name }
func (a archived) Lstat() (os.FileInfo, error)  { return a.f.FileInfo(), nil }
func (a archived) Open() (io.ReadCloser, error) { return a.f.Open() }

// tagGoMod returns the go.mod file of module m at the tag.
func tagGoMod(root string, m repoModule, tag string) ([]byte, error) {
	p := "go.mod"
	if m.dir != "." {
		p = m.dir + "/go.mod"
	}
	out, err := exec.Command("git", "-C", root, "show", tag+":"+p).Output()
	if err != nil {
		return nil, fmt.Errorf("git show %s:%s: %w", tag, p, err)
	}
	return out, nil
}
