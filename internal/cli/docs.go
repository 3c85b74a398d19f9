package cli

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// ManDate is the date written into the generated man pages. It is fixed so
// that `make man` is reproducible and CI can check the pages are current.
var ManDate = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// CommandTree returns the full command tree, for generating documentation.
// It runs nothing.
func CommandTree() *cobra.Command {
	a := &app{stdio: Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, getenv: func(string) string { return "" }, now: time.Now}
	root := newRootCmd(a)
	root.InitDefaultCompletionCmd()
	return root
}

// GenerateMan writes one man page per command into dir.
func GenerateMan(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := CommandTree()
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "CLAWWARDEN", Section: "1", Date: &ManDate, Source: "clawwarden", Manual: "clawwarden manual"}
	return doc.GenManTree(root, hdr, dir)
}
