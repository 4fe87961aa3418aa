// Command releasecheck proves that the repository's published modules install
// the way a user installs them, before anything is tagged.
//
// It publishes the working tree's modules into a file-based GOPROXY, at the
// versions the nested go.mod files require (the core) and at -version (the
// nested modules, as their tags would name them), then runs the go command
// with GOWORK=off against that proxy, so no go.work and no replace directive
// of the repository can help. A required version that is already tagged is
// published as its tag has it: a nested module that uses more of the core
// than the release it requires fails.
//
//	releasecheck install   build and vet an outside module that imports every
//	                       package of every published module
//	releasecheck tidy      run go mod tidy -diff in every module of go.work
//	                       and fail on a difference
//	releasecheck -fix tidy write what go mod tidy would
//
// Every module of go.work is published except those nobody imports (bench,
// chaos, examples/..., .ci/...); a published module must have no replace
// directive and must require the repository's other modules at release
// versions. Third-party modules come from the local module cache first, then
// from the usual GOPROXY.
//
// Run it from the repository root, with the workspace: go run ./.ci/releasecheck install.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	root := flag.String("root", ".", "the repository root, where go.work is")
	version := flag.String("version", "v0.1.0", "the version at which the nested modules are published")
	fix := flag.Bool("fix", false, "with tidy: write what go mod tidy would instead of failing on a difference")
	keep := flag.Bool("keep", false, "keep the temporary directory (proxy, consumer, module cache) and print its path")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: releasecheck [-fix] [-root dir] [-version v] [-keep] install|tidy")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || (flag.Arg(0) != "install" && flag.Arg(0) != "tidy") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *root, *version, *fix, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

func run(cmd, root, version string, fix, keep bool) error {
	start := time.Now()
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	ws, err := loadWorkspace(root)
	if err != nil {
		return err
	}
	if errs := ws.check(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "releasecheck:", e)
		}
		return fmt.Errorf("%d published module(s) a user could not install", len(errs))
	}
	rel, err := ws.releases(version)
	if err != nil {
		return err
	}

	work, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("releasecheck: keeping", work)
	} else {
		defer os.RemoveAll(work) // the module cache is writable: -modcacherw
	}
	proxy := filepath.Join(work, "proxy")
	for _, m := range ws.published() {
		if err := publish(proxy, root, m, rel[m.path], version, start); err != nil {
			return err
		}
		fmt.Printf("releasecheck: published %s at %v\n", m.path, rel[m.path])
	}
	env, err := checkEnv(work, proxy, ws.core().path)
	if err != nil {
		return err
	}

	switch cmd {
	case "install":
		err = install(filepath.Join(work, "consumer"), root, ws, rel, env)
	case "tidy":
		err = tidy(filepath.Join(work, "tidy"), root, ws, env, fix)
	}
	if err != nil {
		return err
	}
	fmt.Printf("releasecheck: %s passed in %.1fs\n", cmd, time.Since(start).Seconds())
	return nil
}
