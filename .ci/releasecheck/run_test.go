package main

import (
	"os/exec"
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

// git runs git in dir for a test.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

func TestRunInstallBuildsAgainstTheTaggedCoreNotTheWorkingTree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root := tinyRepo(t, goodStore)
	git(t, root, "init", "-q")
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "v0.1.0")
	git(t, root, "tag", "v0.1.0")
	require.NoError(t, run("install", root, "v0.1.0", false, false), "the tagged core has what store uses")

	// A package the core gained after its tag is not in the release the
	// consumer gets, so the consumer does not import it.
	writeFiles(t, root, map[string]string{"later/later.go": "// Package later came after v0.1.0.\npackage later\n"})
	require.NoError(t, run("install", root, "v0.1.0", false, false))

	// After the tag, the core gains Later and store starts using it while
	// still requiring v0.1.0: the workspace builds, a user's go get would not.
	writeFiles(t, root, map[string]string{
		"lib.go":         "// Package lib is the core.\npackage lib\n\n// Answer is the answer.\nconst Answer = 42\n\n// Later came after v0.1.0.\nconst Later = 43\n",
		"store/store.go": "// Package store uses the core.\npackage store\n\nimport \"example.com/lib\"\n\n// Answer is the core's.\nconst Answer = lib.Later\n",
	})
	err := run("install", root, "v0.1.0", false, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefined: lib.Later")
}
