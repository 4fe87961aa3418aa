package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// unpublished lists the workspace directories whose modules nobody imports:
// they may keep replace directives and are never published.
var unpublished = []string{"bench", "chaos", "examples", ".ci", "resiliencedebug/browser", "resiliencegrpc/redistest"}

// A repoModule is one module of the repository's workspace.
type repoModule struct {
	dir       string // relative to the root, slash-separated; "." for the core
	path      string
	file      *modfile.File
	published bool
}

// A workspace is the repository's modules as go.work lists them, sorted by
// directory, the core (directory ".") first.
type workspace []repoModule

func loadWorkspace(root string) (workspace, error) {
	name := filepath.Join(root, "go.work")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork(name, data, nil)
	if err != nil {
		return nil, err
	}
	var ws workspace
	for _, u := range wf.Use {
		dir := path.Clean(filepath.ToSlash(u.Path))
		if path.IsAbs(dir) || dir == ".." || strings.HasPrefix(dir, "../") {
			return nil, fmt.Errorf("go.work: %s is outside the repository", u.Path)
		}
		name := filepath.Join(root, filepath.FromSlash(dir), "go.mod")
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return nil, err
		}
		if f.Module == nil {
			return nil, fmt.Errorf("%s: no module line", name)
		}
		ws = append(ws, repoModule{dir: dir, path: f.Module.Mod.Path, file: f, published: !isUnpublished(dir)})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].dir == "." || (ws[j].dir != "." && ws[i].dir < ws[j].dir) })
	if len(ws) == 0 || ws[0].dir != "." {
		return nil, fmt.Errorf("go.work does not use the root module")
	}
	return ws, nil
}

func isUnpublished(dir string) bool {
	for _, u := range unpublished {
		if dir == u || strings.HasPrefix(dir, u+"/") {
			return true
		}
	}
	return false
}

func (ws workspace) core() repoModule { return ws[0] }

// inRepo reports whether a module path belongs to the repository: the core's
// path or one below it.
func (ws workspace) inRepo(p string) bool {
	core := ws.core().path
	return p == core || strings.HasPrefix(p, core+"/")
}

func (ws workspace) published() []repoModule {
	var out []repoModule
	for _, m := range ws {
		if m.published {
			out = append(out, m)
		}
	}
	return out
}

func (ws workspace) byPath(p string) (repoModule, bool) {
	for _, m := range ws {
		if m.path == p {
			return m, true
		}
	}
	return repoModule{}, false
}

// check reports every reason a user's go get could not install a published
// module: a replace directive (ignored in a dependency's go.mod), or a
// requirement of one of the repository's modules at a version that no tag
// can have (a pseudo-version) or that is not itself published.
func (ws workspace) check() []error {
	var errs []error
	for _, m := range ws.published() {
		for _, r := range m.file.Replace {
			errs = append(errs, fmt.Errorf("%s/go.mod: replace %s: a user's go get ignores a dependency's replace; require a released version and let go.work join the modules while developing", m.dir, r.Old.Path))
		}
		for _, r := range m.file.Require {
			p, v := r.Mod.Path, r.Mod.Version
			if !ws.inRepo(p) {
				continue
			}
			switch dep, ok := ws.byPath(p); {
			case !ok:
				errs = append(errs, fmt.Errorf("%s/go.mod: requires %s, which go.work does not list", m.dir, p))
			case !dep.published:
				errs = append(errs, fmt.Errorf("%s/go.mod: requires %s, which is never published", m.dir, p))
			}
			if !semver.IsValid(v) || module.IsPseudoVersion(v) {
				errs = append(errs, fmt.Errorf("%s/go.mod: requires %s at %s, not a release version", m.dir, p, v))
			}
		}
	}
	return errs
}

// releases returns, for each published module, the versions to publish,
// highest last: every version at which another published module requires
// it, and for a nested module also the given version, at which its tag
// would be made. The core is published at -version only if nothing
// requires it.
func (ws workspace) releases(version string) (map[string][]string, error) {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return nil, fmt.Errorf("-version %q is not a canonical semantic version", version)
	}
	rel := make(map[string][]string)
	add := func(p, v string) {
		for _, have := range rel[p] {
			if have == v {
				return
			}
		}
		rel[p] = append(rel[p], v)
	}
	for _, m := range ws.published() {
		if m.dir != "." {
			add(m.path, version)
		}
		for _, r := range m.file.Require {
			if ws.inRepo(r.Mod.Path) {
				add(r.Mod.Path, r.Mod.Version)
			}
		}
	}
	if core := ws.core().path; len(rel[core]) == 0 {
		add(core, version)
	}
	for _, vs := range rel {
		semver.Sort(vs)
	}
	return rel, nil
}
