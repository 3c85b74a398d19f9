package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestManPagesUpToDate regenerates the man pages and compares them with
// docs/man: run `make man` after changing a command.
func TestManPagesUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir, "../../../README.md"); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	have, _ := filepath.Glob("../../../docs/man/*.1")
	names := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, filepath.Base(p))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(names(want), names(have)) {
		t.Fatalf("docs/man is out of date (run 'make man'):\n have %v\n want %v", names(have), names(want))
	}
	for _, p := range want {
		got, _ := os.ReadFile(filepath.Join("../../../docs/man", filepath.Base(p)))
		exp, _ := os.ReadFile(p)
		if !bytes.Equal(got, exp) {
			t.Errorf("docs/man/%s is out of date (run 'make man')", filepath.Base(p))
		}
	}
}
