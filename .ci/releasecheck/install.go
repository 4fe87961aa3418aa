package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// install builds, in dir, the module an outside user would write: it
// requires every published module at its highest published version and
// imports every package they export at those versions, and must pass go mod
// tidy, go build and go vet.
func install(dir, root string, ws workspace, rel map[string][]string, env []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var gomod modfile.File
	if err := gomod.AddModuleStmt("example.com/consumer"); err != nil {
		return err
	}
	if goVersion := ws.core().file.Go; goVersion != nil {
		if err := gomod.AddGoStmt(goVersion.Version); err != nil {
			return err
		}
	}
	for _, m := range ws.published() {
		vs := rel[m.path]
		gomod.AddNewRequire(m.path, vs[len(vs)-1], false)
	}
	gomod.Cleanup()
	data, err := gomod.Format()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), data, 0o644); err != nil {
		return err
	}
	// The repository's go.sum files vouch for the third-party modules, as
	// a user's checksum database would; the repository's own modules have
	// no entry until they are tagged (GONOSUMDB).
	sums, err := repoSums(root, ws)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644); err != nil {
		return err
	}

	// The packages as the published versions have them, which for a tagged
	// version are not the working tree's.
	mainFile := filepath.Join(dir, "main.go")
	if err := os.WriteFile(mainFile, consumerMain(nil), 0o644); err != nil {
		return err
	}
	out, err := goOutput(dir, env, "list", "-f", "{{.ImportPath}} {{.Name}}", ws.core().path+"/...")
	if err != nil {
		return err
	}
	imports := importable(string(out))
	if err := os.WriteFile(mainFile, consumerMain(imports), 0o644); err != nil {
		return err
	}
	fmt.Printf("releasecheck: a consumer of %d packages\n", len(imports))
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "./..."}, {"vet", "./..."}} {
		start := time.Now()
		if _, err := gocmd(dir, env, args...); err != nil {
			return err
		}
		fmt.Printf("releasecheck: go %s: ok in %.1fs\n", strings.Join(args, " "), time.Since(start).Seconds())
	}
	out, err = goOutput(dir, env, "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}} {{.ImportPath}} {{join .Imports \" \"}}", "./...")
	if err != nil {
		return err
	}
	return noCoreInternal(string(out), ws.core().path)
}

// noCoreInternal fails when a package of a nested module imports one of the
// core's internal packages (from go list lines of a module path, an import
// path and its imports): Go allows it by path, but a later release of the
// core may change its internal API and break the nested module's tagged
// versions.
func noCoreInternal(list, core string) error {
	var errs []error
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == core || !strings.HasPrefix(f[0], core+"/") {
			continue
		}
		for _, imp := range f[2:] {
			if strings.HasPrefix(imp, core+"/internal/") || imp == core+"/internal" {
				errs = append(errs, fmt.Errorf("%s imports %s, an internal package of the core", f[1], imp))
			}
		}
	}
	return errors.Join(errs...)
}

// importable returns the import paths of the packages a user can import,
// from go list lines of an import path and a package name: neither main
// packages nor internal ones.
func importable(list string) []string {
	var pkgs []string
	for line := range strings.Lines(list) {
		p, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || name == "main" || slices.Contains(strings.Split(p, "/"), "internal") {
			continue
		}
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	return pkgs
}

func consumerMain(imports []string) []byte {
	var b bytes.Buffer
	b.WriteString("// Command consumer imports every package of the published modules, as\n// an outside user would.\npackage main\n\nimport (\n")
	for _, p := range imports {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n\nfunc main() {}\n")
	return b.Bytes()
}

// repoSums returns the lines of the workspace's go.sum files and go.work.sum,
// without those of the repository's own modules, sorted and deduplicated.
func repoSums(root string, ws workspace) ([]byte, error) {
	files := []string{filepath.Join(root, "go.work.sum")}
	for _, m := range ws {
		files = append(files, filepath.Join(root, filepath.FromSlash(m.dir), "go.sum"))
	}
	var all []byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, withoutRepo(data, ws)...)
	}
	return sortedSum(all), nil
}

// withoutRepo returns go.sum data without the lines of the repository's own
// modules, whose checksums are not known before they are tagged.
func withoutRepo(sum []byte, ws workspace) []byte {
	return sumLines(sum, func(p string) bool { return !ws.inRepo(p) })
}

// onlyRepo returns the go.sum lines of the repository's own modules.
func onlyRepo(sum []byte, ws workspace) []byte {
	return sumLines(sum, ws.inRepo)
}

// sumLines returns the non-blank lines of go.sum data whose module path
// keep accepts, each ending in a newline.
func sumLines(sum []byte, keep func(modPath string) bool) []byte {
	var b bytes.Buffer
	for line := range strings.Lines(string(sum)) {
		f := strings.Fields(line)
		if len(f) == 0 || !keep(f[0]) {
			continue
		}
		b.WriteString(strings.TrimRight(line, "\r\n"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// sortedSum returns the distinct lines of go.sum data in the go command's
// order: by module path, then by version.
func sortedSum(data []byte) []byte {
	seen := make(map[string]bool)
	var lines []string
	for line := range strings.Lines(string(data)) {
		if !seen[line] && len(strings.Fields(line)) >= 2 {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := strings.Fields(lines[i]), strings.Fields(lines[j])
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		// semver.Compare does not order "v1.0.0/go.mod" after "v1.0.0".
		av, asuf, _ := strings.Cut(a[1], "/")
		bv, bsuf, _ := strings.Cut(b[1], "/")
		if c := semver.Compare(av, bv); c != 0 {
			return c < 0
		}
		return asuf < bsuf
	})
	return []byte(strings.Join(lines, ""))
}
