// Command mangen writes clawwarden's man pages, generated from the same
// command definitions the binary uses: go run ./internal/cli/mangen DIR
// (`make man` writes them to docs/man).
package main

import (
	"fmt"
	"os"

	"github.com/clawwarden/clawwarden/internal/cli"
)

func main() {
	dir := "docs/man"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := cli.GenerateMan(dir); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
