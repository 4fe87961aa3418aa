package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyRepo is a repository with no third-party dependency, so the go command
// needs nothing but the file proxy: the core, a nested module that imports
// it, and an example module that replaces it.
func tinyRepo(t *testing.T, storeMod string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.work":                    "go 1.25.0\n\nuse (\n\t.\n\t./store\n\t./examples/demo\n)\n",
		"go.mod":                     "module example.com/lib\n\ngo 1.25.0\n",
		"lib.go":                     "// Package lib is the core.\npackage lib\n\n// Answer is the answer.\nconst Answer = 42\n",
		"store/go.mod":               storeMod,
		"store/store.go":             "// Package store uses the core.\npackage store\n\nimport \"example.com/lib\"\n\n// Answer is the core's.\nconst Answer = lib.Answer\n",
		"examples/demo/go.mod":       "module example.com/lib/examples/demo\n\ngo 1.25.0\n\nreplace example.com/lib => ../..\n\nrequire example.com/lib v0.1.0\n",
		"examples/demo/main.go":      "package main\n\nimport \"example.com/lib\"\n\nfunc main() { println(lib.Answer) }\n",
		"examples/demo/main_test.go": "package main\n",
	})
	return root
}

func TestRunInstallBuildsAConsumerOfThePublishedWorkingTree(t *testing.T) {
	root := tinyRepo(t, goodStore)
	require.NoError(t, run("install", root, "v0.1.0", false, false))
}

func TestRunTidyPassesATidyRepository(t *testing.T) {
	root := tinyRepo(t, goodStore)
	require.NoError(t, run("tidy", root, "v0.1.0", false, false))
}

func TestRunTidyFailsOnAMissingRequirementAndFixWritesIt(t *testing.T) {
	// store imports the core but its go.mod does not require it: the
	// workspace builds it anyway, a user's go get would not.
	root := tinyRepo(t, "module example.com/lib/store\n\ngo 1.25.0\n")
	err := run("tidy", root, "v0.1.0", false, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not tidy: store")

	require.NoError(t, run("tidy", root, "v0.1.0", true, false))
	require.NoError(t, run("tidy", root, "v0.1.0", false, false))
	ws, err := loadWorkspace(root)
	require.NoError(t, err)
	store, ok := ws.byPath(core + "/store")
	require.True(t, ok)
	require.Len(t, store.file.Require, 1)
	assert.Equal(t, "example.com/lib@v0.1.0", store.file.Require[0].Mod.String())
}

func TestRunInstallFailsOnAPublishedReplace(t *testing.T) {
	root := tinyRepo(t, "module example.com/lib/store\n\ngo 1.25.0\n\nreplace example.com/lib => ..\n\nrequire example.com/lib v0.1.0\n")
	err := run("install", root, "v0.1.0", false, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "could not install")
}
