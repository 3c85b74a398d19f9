// Command mangen writes clawwarden's man pages, generated from the same
// command definitions the binary uses: go run ./internal/cli/mangen DIR
// (`make man` writes them to docs/man). It lives outside the shipped binary
// so that cobra/doc and its Markdown and YAML libraries do not.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/clawwarden/clawwarden/internal/cli"
)

// manDate is the date written into the generated man pages. It is fixed so
// that `make man` is reproducible and CI can check the pages are current.
var manDate = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func main() {
	dir := "docs/man"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := generate(dir, "README.md"); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

// generate writes one man page per command into dir; the root page gets
// EXIT STATUS, ENVIRONMENT and FILES from the README at readme.
func generate(dir, readme string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := cli.CommandTree()
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "CLAWWARDEN", Section: "1", Date: &manDate, Source: "clawwarden", Manual: "clawwarden manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return err
	}
	return appendSections(filepath.Join(dir, "clawwarden.1"), readme)
}
