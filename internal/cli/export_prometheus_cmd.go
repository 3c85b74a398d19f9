package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/metrics"
)

func init() { exportFormats = append(exportFormats, newExportPrometheusCmd) }

func newExportPrometheusCmd(a *app) *cobra.Command {
	var textfile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "prometheus [--textfile DIR [--json]]",
		Short: "Write the figures in the Prometheus text format, for node_exporter's textfile collector",
		Long: `Gather the figures of the latest assessment, port and egress reports, the
approval queue, the audit log, the cycle log and enforced mode's status, and
write them in the Prometheus text exposition format (metric names start with
clawwarden_; every metric has HELP and TYPE lines).

With --textfile DIR, replace DIR/` + metrics.TextfileName + ` atomically (mode 0644, so
node_exporter's account can read it), where DIR is node_exporter's
--collector.textfile.directory; the directory must exist. Without it, print
to standard output.

A figure whose source is missing or unreadable is left out, not written as
0: clawwarden_input_ok{input="…"} says which sources were read.
'clawwarden cycle' writes the file after its steps when
` + metrics.TextfileDirEnv + ` names the directory.
deploy/prometheus/clawwarden.rules.yml has alert rules for these metrics.

Exit status: 0 when written, 64 when DIR does not exist.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON && textfile == "" {
				return usageErr("--json goes with --textfile: without it the output is the Prometheus text itself")
			}
			path, inputs, err := a.exportPrometheus(cmd.Context(), textfile, nil)
			switch {
			case err != nil:
				return err
			case asJSON:
				return writeJSON(a.stdio.Out, struct {
					Path   string          `json:"path"`
					Inputs map[string]bool `json:"inputs"`
				}{path, inputs})
			case path != "":
				fmt.Fprintf(a.stdio.Out, "wrote %s\n", path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&textfile, "textfile", "", "write DIR/"+metrics.TextfileName+" (node_exporter's textfile directory) instead of printing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --textfile: print the file written and which sources were read, as JSON")
	return cmd
}

// exportPrometheus gathers the figures (with the cycle that has just run,
// when the cycle calls it) and writes them to dir's textfile, or to
// standard output when dir is empty. It returns the file written and which
// sources were read.
func (a *app) exportPrometheus(ctx context.Context, dir string, cycle *metrics.Cycle) (string, map[string]bool, error) {
	paths, err := a.Paths()
	if err != nil {
		return "", nil, err
	}
	f := metrics.Gather(ctx, metrics.Options{Paths: paths, Layout: enforcedLayout, Now: a.now(), Cycle: cycle})
	if dir == "" {
		return "", f.Inputs, metrics.Write(a.stdio.Out, f)
	}
	path, err := metrics.WriteTextfile(dir, f)
	if err != nil {
		return "", nil, withHint(err, "point --textfile (or "+metrics.TextfileDirEnv+") at node_exporter's --collector.textfile.directory, which must exist")
	}
	return path, f.Inputs, nil
}
