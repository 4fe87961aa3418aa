package studytest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/internal/studytest"
)

func TestWellFormed(t *testing.T) {
	assert.NoError(t, studytest.WellFormed([]byte(`<svg><line x1="1"/><text>a &amp; b</text></svg>`)))
	assert.NoError(t, studytest.WellFormed(nil))
	assert.Error(t, studytest.WellFormed([]byte(`<svg><line></svg>`)), "mismatched end tag")
	assert.Error(t, studytest.WellFormed([]byte(`<svg><text>a & b</text></svg>`)), "bare ampersand")
	assert.Error(t, studytest.WellFormed([]byte(`<svg>`)), "unclosed element")
}

func TestReadCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	assert.NoError(t, os.WriteFile(path, []byte("n,mean\n1,2.5\n2,\"3,5\"\n"), 0o644))
	assert.Equal(t, [][]string{{"n", "mean"}, {"1", "2.5"}, {"2", "3,5"}}, studytest.ReadCSV(t, path))
}
