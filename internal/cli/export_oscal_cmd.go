package cli

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/oscal"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

func init() { exportFormats = append(exportFormats, newExportOSCALCmd) }

func newExportOSCALCmd(a *app) *cobra.Command {
	var out, reports string
	cmd := &cobra.Command{
		Use:   "oscal [--out FILE] [--reports DIR]",
		Short: "Write the latest assessment as an OSCAL Assessment Results document (JSON)",
		Long: `Write the latest assessment ('clawwarden assess') as an OSCAL ` + oscal.Version + `
Assessment Results document in JSON: one result for the assessment; per
check an observation (what was found, with its evidence) and a finding (the
check's objective, satisfied or not, with its ISO/IEC 27001:2022 and NIST
CSF 2.0 controls); a risk with the mitigation and due date for each open
one. UUIDs are name-based: a check's observation, finding and risk keep
theirs across assessments of the same host (named by its machine id, or its
host name), so compliance tools can follow them.

Without --out the document goes to standard output; with it, FILE is
replaced atomically (mode 0600). --reports reads the assessment from DIR
instead of the reports directory.

Exit status: 0 when written, 64 when there is no assessment yet, 12 when the
assessment or the directory of FILE is unsafe or malformed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reports == "" {
				paths, err := a.Paths()
				if err != nil {
					return err
				}
				reports = paths.ReportsDir
			}
			as, err := oscal.Load(reports)
			if err != nil {
				return withHint(err, "run 'clawwarden assess' first")
			}
			doc := oscal.Build(as, oscal.Options{HostID: oscal.HostID(""), Tool: buildVersion().Version})
			if out == "" {
				return doc.Write(a.stdio.Out)
			}
			var buf bytes.Buffer
			if err := doc.Write(&buf); err != nil {
				return err
			}
			if err := safefile.WriteFile(out, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdio.Out, "wrote %s (%d checks, %d bytes)\n", out, len(as.AllChecks()), buf.Len())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the document to FILE (atomically, mode 0600) instead of standard output")
	cmd.Flags().StringVar(&reports, "reports", "", "read the assessment from DIR (default: the reports directory)")
	return cmd
}
