package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// CommandTree returns the full command tree, for generating documentation
// (internal/cli/mangen). It runs nothing. The man page generator and its
// dependencies stay out of the shipped binary: every invocation, the sudo
// shim included, would pay for their initialisation.
func CommandTree() *cobra.Command {
	a := &app{stdio: Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, getenv: func(string) string { return "" }, now: time.Now}
	root := newRootCmd(a, nil)
	root.InitDefaultCompletionCmd()
	return root
}
