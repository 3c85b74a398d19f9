package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build information, set with -ldflags "-X" by the release build.
var (
	version   = "dev"
	commit    = ""
	buildDate = ""
)

func init() { subcommands = append(subcommands, newVersionCmd) }

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, build date and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, d := commit, buildDate
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					switch {
					case s.Key == "vcs.revision" && c == "":
						c = s.Value
					case s.Key == "vcs.time" && d == "":
						d = s.Value
					}
				}
			}
			if c == "" {
				c = "unknown"
			}
			if d == "" {
				d = "unknown"
			}
			fmt.Fprintf(a.stdio.Out, "clawwarden %s\ncommit: %s\nbuilt: %s\ngo: %s %s/%s\n", version, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
