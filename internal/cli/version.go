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

func init() { subcommands = append(subcommands, subcommand{"version", newVersionCmd}) }

// versionInfo is what `version` prints.
type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Built   string `json:"built"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// buildVersion reads the version information: the release build's -X
// values, else the VCS stamp of the build, else "unknown".
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, Built: buildDate, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "":
				v.Commit = s.Value
			case s.Key == "vcs.time" && v.Built == "":
				v.Built = s.Value
			}
		}
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Built == "" {
		v.Built = "unknown"
	}
	return v
}

func (v versionInfo) String() string {
	return fmt.Sprintf("clawwarden %s\ncommit: %s\nbuilt: %s\ngo: %s %s/%s\n", v.Version, v.Commit, v.Built, v.Go, v.OS, v.Arch)
}

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print version, commit, build date and Go version (also: clawwarden --version)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			if asJSON {
				return writeJSON(a.stdio.Out, v)
			}
			fmt.Fprint(a.stdio.Out, v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
