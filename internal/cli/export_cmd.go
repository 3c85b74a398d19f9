package cli

import "github.com/spf13/cobra"

func init() { subcommands = append(subcommands, subcommand{"export", newExportCmd}) }

// exportFormats lists the constructors of `export`'s subcommands, one per
// format; each format's file adds itself.
var exportFormats []func(*app) *cobra.Command

func newExportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the latest results in formats other tools read (Prometheus, OSCAL)",
		Long: `Write the latest assessment, network reports, approvals and audit state in a
format the tools operators already run can read. clawwarden does not serve
them: it writes files those tools collect.`,
		Args: noArgs,
	}
	for _, mk := range exportFormats {
		cmd.AddCommand(mk(a))
	}
	return cmd
}
