package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// writeFiles creates files under root from a map of slash paths to contents.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

const core = "example.com/lib"

// repo is a small repository: the core, a published nested module as it
// should be, and an unpublished one with a replace.
func repo(t *testing.T, nestedMod string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.work":              "go 1.25.0\n\nuse (\n\t.\n\t./store\n\t./bench\n)\n",
		"go.mod":               "module example.com/lib\n\ngo 1.25.0\n",
		"lib.go":               "package lib\n",
		"internal/x/x.go":      "package x\n",
		"cmd/tool/main.go":     "package main\n\nfunc main() {}\n",
		"testdata/t/t.go":      "package t\n",
		"sub/sub.go":           "package sub\n",
		"sub/sub_test.go":      "package sub\n",
		"store/go.mod":         nestedMod,
		"store/store.go":       "package store\n",
		"bench/go.mod":         "module example.com/lib/bench\n\ngo 1.25.0\n\nreplace example.com/lib => ..\n\nrequire example.com/lib v0.0.0-00010101000000-000000000000\n",
		"bench/bench_test.go":  "package bench\n",
		"docs/notes/readme.md": "notes\n",
	})
	return root
}

const goodStore = "module example.com/lib/store\n\ngo 1.25.0\n\nrequire example.com/lib v0.1.0\n"

func TestCheckAcceptsReleasedRequirementsAndUnpublishedReplace(t *testing.T) {
	ws, err := loadWorkspace(repo(t, goodStore))
	require.NoError(t, err)
	assert.Empty(t, ws.check())
	var dirs []string
	for _, m := range ws.published() {
		dirs = append(dirs, m.dir)
	}
	assert.Equal(t, []string{".", "store"}, dirs, "bench is never published")
}

func TestCheckReportsReplaceAndPseudoVersionInPublishedModule(t *testing.T) {
	ws, err := loadWorkspace(repo(t, "module example.com/lib/store\n\ngo 1.25.0\n\nreplace example.com/lib => ..\n\nrequire example.com/lib v0.0.0-00010101000000-000000000000\n"))
	require.NoError(t, err)
	errs := ws.check()
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0].Error(), "store/go.mod: replace example.com/lib")
	assert.Contains(t, errs[1].Error(), "not a release version")
}

func TestCheckReportsRequirementOfUnpublishedModule(t *testing.T) {
	ws, err := loadWorkspace(repo(t, "module example.com/lib/store\n\ngo 1.25.0\n\nrequire (\n\texample.com/lib v0.1.0\n\texample.com/lib/bench v0.1.0\n)\n"))
	require.NoError(t, err)
	errs := ws.check()
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "requires example.com/lib/bench, which is never published")
}

func TestReleasesPublishesTheCoreAtEveryRequiredVersion(t *testing.T) {
	root := repo(t, goodStore)
	writeFiles(t, root, map[string]string{
		"go.work":        "go 1.25.0\n\nuse (\n\t.\n\t./store\n\t./otel\n\t./bench\n)\n",
		"otel/go.mod":    "module example.com/lib/otel\n\ngo 1.25.0\n\nrequire example.com/lib v0.2.0\n",
		"otel/otel.go":   "package otel\n",
		"store/store.go": "package store\n",
	})
	ws, err := loadWorkspace(root)
	require.NoError(t, err)
	rel, err := ws.releases("v0.3.0")
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		core:            {"v0.1.0", "v0.2.0"},
		core + "/store": {"v0.3.0"},
		core + "/otel":  {"v0.3.0"},
	}, rel)

	_, err = ws.releases("v1")
	assert.Error(t, err, "a version a tag cannot have")
}

func TestPublishWritesTheProxyLayoutWithoutNestedModules(t *testing.T) {
	root := repo(t, goodStore)
	ws, err := loadWorkspace(root)
	require.NoError(t, err)
	proxy := t.TempDir()
	require.NoError(t, publish(proxy, root, ws.core(), []string{"v0.1.0", "v0.2.0"}, "v0.2.0", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))

	at := filepath.Join(proxy, "example.com", "lib", "@v")
	list, err := os.ReadFile(filepath.Join(at, "list"))
	require.NoError(t, err)
	assert.Equal(t, "v0.1.0\nv0.2.0\n", string(list))
	info, err := os.ReadFile(filepath.Join(at, "v0.2.0.info"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"Version":"v0.2.0","Time":"2026-01-02T03:04:05Z"}`, string(info))
	mod, err := os.ReadFile(filepath.Join(at, "v0.2.0.mod"))
	require.NoError(t, err)
	assert.Equal(t, "module example.com/lib\n\ngo 1.25.0\n", string(mod))

	z, err := zip.OpenReader(filepath.Join(at, "v0.2.0.zip"))
	require.NoError(t, err)
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	assert.Contains(t, names, "example.com/lib@v0.2.0/lib.go")
	assert.Contains(t, names, "example.com/lib@v0.2.0/go.mod")
	for _, n := range names {
		assert.False(t, strings.HasPrefix(n, "example.com/lib@v0.2.0/store/"), "nested module file %s in the core's zip", n)
		assert.False(t, strings.HasPrefix(n, "example.com/lib@v0.2.0/bench/"), "nested module file %s in the core's zip", n)
	}
}

func TestImportableSkipsMainAndInternalPackages(t *testing.T) {
	list := "example.com/lib lib\nexample.com/lib/cmd/tool main\nexample.com/lib/internal/x x\n" +
		"example.com/lib/sub/internal internal\nexample.com/lib/store store\nexample.com/lib/internals internals\n"
	assert.Equal(t, []string{core, core + "/internals", core + "/store"}, importable(list))
}

func TestChangesIgnoresOnlyTheRepositorysGoSumLines(t *testing.T) {
	ws, err := loadWorkspace(repo(t, goodStore))
	require.NoError(t, err)
	tmp := "/tmp/x/store"
	onlyRepo := "diff current/go.sum tidy/go.sum\n--- " + tmp + "/go.sum\n+++ " + tmp + "/go.sum\n@@ -1,2 +1,4 @@\n" +
		"+example.com/lib v0.1.0 h1:abc=\n+example.com/lib v0.1.0/go.mod h1:def=\n other.org/m v1.0.0 h1:x=\n"
	assert.Empty(t, changes(onlyRepo, tmp, ws))

	real := "--- " + tmp + "/go.mod\n+++ " + tmp + "/go.mod\n@@ -3 +3 @@\n-\texample.com/lib v0.0.1\n+\texample.com/lib v0.1.0\n" +
		"--- " + tmp + "/go.sum\n+++ " + tmp + "/go.sum\n@@ -1 +1,2 @@\n+example.com/lib v0.1.0 h1:abc=\n+other.org/m v1.0.0/go.mod h1:y=\n"
	assert.Equal(t, "  go.mod:\n  -\texample.com/lib v0.0.1\n  +\texample.com/lib v0.1.0\n  go.sum:\n  +other.org/m v1.0.0/go.mod h1:y=\n", changes(real, tmp, ws))
}

func TestSortedSumOrdersAsTheGoCommand(t *testing.T) {
	in := "b.org/m v1.12.1 h1:c=\nb.org/m v1.3.0/go.mod h1:b=\na.org/m v1.0.0/go.mod h1:a=\nb.org/m v1.12.1/go.mod h1:d=\n" +
		"b.org/m v1.3.0/go.mod h1:b=\n\n"
	assert.Equal(t, "a.org/m v1.0.0/go.mod h1:a=\nb.org/m v1.3.0/go.mod h1:b=\nb.org/m v1.12.1 h1:c=\nb.org/m v1.12.1/go.mod h1:d=\n",
		string(sortedSum([]byte(in))))
}

func TestSumLinesSplitsTheRepositorysLinesFromTheRest(t *testing.T) {
	ws, err := loadWorkspace(repo(t, goodStore))
	require.NoError(t, err)
	sum := []byte("example.com/lib v0.1.0 h1:a=\nexample.com/lib/store v0.1.0/go.mod h1:b=\nexample.com/library v1.0.0 h1:c=\nother.org/m v1.0.0 h1:d=\n")
	assert.Equal(t, "example.com/library v1.0.0 h1:c=\nother.org/m v1.0.0 h1:d=\n", string(withoutRepo(sum, ws)))
	assert.Equal(t, "example.com/lib v0.1.0 h1:a=\nexample.com/lib/store v0.1.0/go.mod h1:b=\n", string(onlyRepo(sum, ws)))
}

func TestNoCoreInternalRefusesANestedModuleImportingTheCoresInternals(t *testing.T) {
	const core = "example.com/core"
	list := core + " " + core + "/internal/emit fmt\n" +
		core + " " + core + "/retry " + core + "/internal/emit\n" +
		core + "/store " + core + "/store " + core + "/retry " + core + "/internal/emit\n" +
		core + "/other " + core + "/other fmt\n"
	err := noCoreInternal(list, core)
	if err == nil || !strings.Contains(err.Error(), core+"/store imports "+core+"/internal/emit") {
		t.Fatalf("noCoreInternal = %v, want the nested module's import named", err)
	}
	if strings.Contains(err.Error(), core+"/retry imports") {
		t.Fatalf("the core's own packages may import its internals: %v", err)
	}
	if err := noCoreInternal(core+"/other "+core+"/other fmt "+core+"/retry\n", core); err != nil {
		t.Fatalf("a nested module on the exported API: %v", err)
	}
}
