package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/report"
)

func init() { subcommands = append(subcommands, subcommand{"assess", newAssessCmd}) }

type assessOptions struct {
	out             string
	asJSON          bool
	noOpenClawAudit bool
	openclawTimeout time.Duration
	failOn          string
}

func newAssessCmd(a *app) *cobra.Command {
	var o assessOptions
	cmd := &cobra.Command{
		Use:   "assess [--out DIR] [--json] [--fail-on violation|partial]",
		Short: "Assess the host and OpenClaw against ISO 27001:2022 and NIST CSF 2.0",
		Long: `Evaluate the host and the OpenClaw installation with twenty checks (sudo
rights and NOPASSWD rules, credential cache timeout, other routes to root,
the runtime hook, the audit chain, policy files, approval factors, gateway
bind and auth, channel allowlists and mention gating, file permissions,
backups, updates, and the latest port and egress reports) and, when the
openclaw command is on PATH, the findings of 'openclaw security audit
--json' and OpenClaw's exec policy ('openclaw approvals get --json'). Each check says what was observed, the evidence, the gap, what to
change where, an owner and a due date, with its ISO/IEC 27001:2022 Annex A
and NIST CSF 2.0 references. Evidence that cannot be read makes the check
not_assessed, with the reason.

Writes openclaw-assessment.json, compliance-summary.json and
compliance-dashboard.html to the reports directory (the skill's
assessments/ directory; --out overrides). Run 'clawwarden ports' and
'clawwarden egress' first for current network evidence.

A completed assessment exits 0, whatever it found, and says what to do
next; --fail-on makes findings a failure for scripts: "violation" exits 10
when any check is a violation, "partial" when any is a violation or partial
("none", the default, never).

Exit status: 0 assessment completed (and nothing at the --fail-on level),
10 a finding at the --fail-on level, 12 a policy, state, config or report
file is malformed or unsafe, 64 usage.`,
		Example: "  clawwarden assess\n  clawwarden assess --json --out /tmp/assessments\n  clawwarden assess --fail-on violation   # in CI: exit 10 on any violation",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAssess(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "write the reports to DIR (default: the reports directory)")
	f.BoolVar(&o.asJSON, "json", false, "print compliance-summary.json to standard output")
	f.BoolVar(&o.noOpenClawAudit, "no-openclaw-audit", false, "do not run 'openclaw security audit --json' and 'openclaw approvals get --json'")
	f.DurationVar(&o.openclawTimeout, "openclaw-timeout", 2*time.Minute, "time limit for each openclaw command")
	f.StringVar(&o.failOn, "fail-on", string(assess.FailNever), `exit 10 when a finding is at this level: "violation", "partial" or "none"`)
	return cmd
}

func runAssess(ctx context.Context, a *app, o assessOptions) error {
	failOn, err := assess.ParseFailOn(o.failOn)
	if err != nil {
		return usageErr("%v", err)
	}
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	_, enforced := a.enforced()
	opts := assess.Gather(ctx, assess.GatherOptions{
		Paths:           paths,
		Env:             a.env,
		Getenv:          a.getenv,
		Now:             a.now(),
		Enforced:        enforced,
		OpenClaw:        !o.noOpenClawAudit,
		OpenClawTimeout: o.openclawTimeout,
	})
	res := assess.Run(ctx, opts)
	dir := o.out
	if dir == "" {
		dir = paths.ReportsDir
	}
	written, err := report.WriteAll(dir, res)
	if err != nil {
		return err
	}
	if o.asJSON {
		if err := report.WriteSummary(a.stdio.Out, res); err != nil {
			return err
		}
	} else {
		printAssessment(a.stdio.Out, res, written)
	}
	if len(res.InputErrors) > 0 {
		for _, e := range res.InputErrors {
			a.printf("malformed or unsafe input: %s", e)
		}
		return withCode(ExitBadState, withHint(errors.New("the assessment read malformed or unsafe files; the affected checks say which"),
			"fix the files named above, then run 'clawwarden assess' again"))
	}
	if res.Fails(failOn) {
		return silent(ExitFindings)
	}
	return nil
}

func printAssessment(out io.Writer, res *assess.Assessment, written report.Paths) {
	s := res.Summary
	fmt.Fprintf(out, "assess: %s: %d checks, %d violation, %d partial, %d not assessed, %d compliant (score %d%%)\n",
		s.Status, s.Total, s.ByStatus[assess.StatusViolation], s.ByStatus[assess.StatusPartial],
		s.ByStatus[assess.StatusNotAssessed], s.ByStatus[assess.StatusCompliant], s.Score)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tRISK\tOBSERVED")
	for _, c := range res.AllChecks() {
		obs, _, _ := strings.Cut(c.Observed, "\n")
		if r := []rune(obs); len(r) > 100 {
			obs = string(r[:97]) + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.CheckID, c.Status, c.Risk, obs)
	}
	tw.Flush()
	if !res.OpenClawAudit.Ran {
		fmt.Fprintf(out, "openclaw security audit: not run: %s\n", res.OpenClawAudit.Note)
	}
	fmt.Fprintf(out, "reports:\n  %s\n  %s\n  %s\n", written.Assessment, written.Summary, written.Dashboard)
	if n := res.Summary.ByStatus[assess.StatusViolation] + res.Summary.ByStatus[assess.StatusPartial]; n > 0 {
		fmt.Fprintf(out, "next: open %s and work through its %d open items, worst first (each names what to change, where);\n"+
			"      run 'clawwarden assess' again to see them close ('--fail-on violation' makes scripts fail while any violation is open)\n",
			written.Dashboard, n)
	}
}
