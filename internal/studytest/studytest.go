// Package studytest holds the checks the end-to-end tests of the studies
// under examples share: whether a chart they wrote is well-formed XML, and
// the rows of a CSV file they wrote.
package studytest

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// WellFormed returns nil if b is well-formed XML, such as an SVG chart, and
// the decoder's first error if not. An empty b is well formed.
func WellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// ReadCSV returns every row of the CSV file at path, header included, and
// fails t at once if the file cannot be read or is not valid CSV.
func ReadCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err, path)
	return rows
}
