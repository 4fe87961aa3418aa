package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// publish writes module m, as it is in the working tree, into the file-based
// GOPROXY at proxy, at each of versions: the zip, .mod and .info files of
// each version and the list of them all, laid out as GOPROXY's protocol
// (go help goproxy) and a module cache's download directory lay them out.
func publish(proxy, root string, m repoModule, versions []string, t time.Time) error {
	esc, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	at := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	dir := filepath.Join(root, filepath.FromSlash(m.dir))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	for _, v := range versions {
		ev, err := module.EscapeVersion(v)
		if err != nil {
			return err
		}
		base := filepath.Join(at, ev)
		if err := writeZip(base+".zip", module.Version{Path: m.path, Version: v}, dir); err != nil {
			return err
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

// writeZip makes the module zip the go command would download: the files of
// dir without nested modules, vendor directories or version control data.
func writeZip(name string, m module.Version, dir string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, m, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
