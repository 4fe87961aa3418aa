package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// publish writes module m into the file-based GOPROXY at proxy, at each of
// versions: the zip, .mod and .info files of each version and the list of
// them all, laid out as GOPROXY's protocol (go help goproxy) and a module
// cache's download directory lay them out.
//
// A version whose git tag exists is published as the tag has it, so that a
// nested module that requires a released core is built against that
// release, not the working tree's; any other version, and always a nested
// module at fresh (the version about to be tagged), is the working tree.
func publish(proxy, root string, m repoModule, versions []string, fresh string, t time.Time) error {
	esc, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	at := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	dir := filepath.Join(root, filepath.FromSlash(m.dir))
	for _, v := range versions {
		ev, err := module.EscapeVersion(v)
		if err != nil {
			return err
		}
		base := filepath.Join(at, ev)
		mv := module.Version{Path: m.path, Version: v}
		var gomod []byte
		if tag := tagName(m, v); (m.dir == "." || v != fresh) && hasTag(root, tag) {
			files, err := tagFiles(root, m, tag)
			if err != nil {
				return err
			}
			if err := writeZip(base+".zip", func(w io.Writer) error { return zip.Create(w, mv, files) }); err != nil {
				return err
			}
			if gomod, err = tagGoMod(root, m, tag); err != nil {
				return err
			}
			fmt.Printf("releasecheck: %s@%s is its tag %s\n", m.path, v, tag)
		} else {
			if err := writeZip(base+".zip", func(w io.Writer) error { return zip.CreateFromDir(w, mv, dir) }); err != nil {
				return err
			}
			if gomod, err = os.ReadFile(filepath.Join(dir, "go.mod")); err != nil {
				return err
			}
		}
		if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
			return err
		}
		info, err := json.Marshal(struct {
			Version string
			Time    time.Time
		}{v, t.UTC().Truncate(time.Second)})
		if err != nil {
			return err
		}
		if err := os.WriteFile(base+".info", info, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(at, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// writeZip writes the module zip that create makes to the file name:
// without nested modules, vendor directories or version control data.
func writeZip(name string, create func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := create(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
