package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/enforce"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/report"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

func init() { subcommands = append(subcommands, newAssessCmd) }

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

// currentUser returns the name, uid and group names of the running user.
func currentUser() (name string, uid int, groups []string) {
	uid = os.Getuid()
	name = strconv.Itoa(uid)
	u, err := user.Current()
	if err != nil {
		return name, uid, nil
	}
	name = u.Username
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			groups = append(groups, g.Name)
		}
	}
	return name, uid, groups
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
	name, uid, groups := currentUser()
	host, _ := os.Hostname()
	realSudo := a.env.RealSudo
	if realSudo == "" {
		realSudo = "/usr/bin/sudo"
	}
	opts := assess.Options{
		Paths:      paths,
		Env:        a.env,
		ConfigPath: openclaw.ConfigPath(a.env.ConfigPath, paths.StateDir, paths.Home),
		Now:        a.now(),
		Hostname:   host,
		User:       name,
		UID:        uid,
		Groups:     groups,
		SudoList: func(ctx context.Context) ([]byte, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, realSudo, "-n", "-l")
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
			var errb strings.Builder
			cmd.Stderr = &errb
			out, err := cmd.Output()
			if err != nil {
				if msg := strings.TrimSpace(errb.String()); msg != "" {
					return nil, fmt.Errorf("%s: %w", msg, err)
				}
				return nil, err
			}
			return out, nil
		},
	}
	if _, ok := a.enforced(); ok {
		st := enforce.Check(ctx, enforce.Options{})
		en := &assess.Enforcement{Enforced: st.Enforced, AgentUser: st.AgentUser, Reasons: st.Reasons, Evidence: st.Boundary.Evidence, Keys: len(st.Signers)}
		for _, s := range st.Signers {
			if strings.Contains(s, "hardware") {
				en.HardwareKeys++
			}
		}
		opts.Enforced = en
	}
	opts.Gateway = liveGateway(ctx)
	// Each openclaw command is a Node start of several seconds: the hook's
	// status, the exec policy and OpenClaw's own audit are gathered side by
	// side, each into its own fields.
	var wg sync.WaitGroup
	wg.Go(func() {
		if h, err := hook.New(paths, a.getenv); err != nil {
			opts.HookErr = err
		} else {
			opts.Hook, opts.HookErr = h.Status(ctx)
		}
	})
	exe, lookErr := exec.LookPath("openclaw")
	switch {
	case o.noOpenClawAudit:
		opts.ExecPolicyNote = "skipped (--no-openclaw-audit)"
		opts.OpenClawAuditNote = "skipped (--no-openclaw-audit)"
	case lookErr != nil:
		opts.ExecPolicyNote = "the openclaw command is not on PATH"
		opts.OpenClawAuditNote = "the openclaw command is not on PATH"
	default:
		wg.Go(func() {
			scopes, err := openclaw.RunApprovals(ctx, exe, o.openclawTimeout)
			if err != nil {
				opts.ExecPolicyNote = err.Error()
				return
			}
			opts.ExecPolicy = scopes
			if opts.ExecPolicy == nil {
				opts.ExecPolicy = []openclaw.ExecScope{}
			}
		})
		wg.Go(func() {
			r, err := openclaw.RunAudit(ctx, exe, o.openclawTimeout)
			if err != nil {
				opts.OpenClawAuditNote = err.Error()
				return
			}
			opts.OpenClawAudit = r
			opts.OpenClawAuditNote = exe + " security audit --json"
		})
	}
	wg.Wait()
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

// liveGateway scans the listening sockets for OpenClaw gateway processes.
func liveGateway(ctx context.Context) *assess.LiveGateway {
	inv, err := sockets.List(ctx, sockets.Options{Listening: true})
	if err != nil {
		return &assess.LiveGateway{Note: "the socket scan failed: " + err.Error()}
	}
	g := &assess.LiveGateway{Listeners: openclaw.GatewayListeners(inv.Sockets, openclaw.Cmdline)}
	if inv.Partial {
		g.Note = inv.Note
	}
	return g
}
