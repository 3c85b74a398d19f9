package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteRoff(t *testing.T) {
	var b strings.Builder
	writeRoff(&b, "`exec` returns\nits status.\n\n| status | meaning |\n|---|---|\n| 0 | ok \\| fine |\n| 64 | bad `--flag` |\n")
	want := ".PP\n\\fBexec\\fR returns its status.\n.TP\n0\nok | fine\n.TP\n64\nbad \\fB\\-\\-flag\\fR\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if got := splitRow(`| a | b \| c | d |`); !slices.Equal(got, []string{"a", "b | c", "d"}) {
		t.Errorf("splitRow = %q", got)
	}
	if got := roffText(".hidden \\ back"); got != `\&.hidden \e back` {
		t.Errorf("roffText = %q", got)
	}
}

// TestRootPageSections checks that clawwarden(1) carries every exit status
// of the README's table.
func TestRootPageSections(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir, "../../../README.md"); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "clawwarden.1"))
	for _, want := range []string{".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".TP\n64\n", "\\fBOPENCLAW_STATE_DIR\\fR", "privileged\\-audit.jsonl"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("clawwarden.1 lacks %q", want)
		}
	}
}
