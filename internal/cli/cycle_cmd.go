package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/cycle"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/metrics"
	"github.com/clawwarden/clawwarden/internal/preflight"
)

func init() {
	subcommands = append(subcommands, subcommand{"cycle", newCycleCmd}, subcommand{"preflight", newPreflightCmd})
}

func newCycleCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cycle [--json]",
		Short: "Run preflight, ports, egress, assess and notify once, appending to the cycle log",
		Long: `Run one monitoring cycle: preflight → ports → egress → assess → notify, each as
its own clawwarden process, appending what each printed, its exit status and
duration to ~/.openclaw/logs/cyber-security-engineer-auto.log. Only one cycle
runs at a time: a cycle that finds another one running exits at once.
With ` + metrics.TextfileDirEnv + `=DIR set, a last step writes
DIR/` + metrics.TextfileName + ` for node_exporter (see 'clawwarden export prometheus').
This is what 'clawwarden schedule install' runs.

Exit status: 0 when every step passed, 10 when a step found problems, the
first other failing status otherwise, 12 when the log is unsafe.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runCycle(cmd.Context(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the steps as JSON")
	return cmd
}

func (a *app) runCycle(ctx context.Context, asJSON bool) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	opts := cycle.Options{Exe: self, Env: a.stdio.Env, Log: paths.CycleLog(), Now: a.now, FindingsCode: ExitFindings, FailedCode: ExitInternal}
	if dir := a.getenv(metrics.TextfileDirEnv); dir != "" {
		opts.Final = &cycle.Final{Name: "prometheus", Run: func(ctx context.Context, res cycle.Result) (string, int) {
			d := time.Duration(res.DurationMS * float64(time.Millisecond))
			path, _, err := a.exportPrometheus(ctx, dir, &metrics.Cycle{Ended: res.Started.Add(d), Duration: d, ExitCode: res.ExitCode})
			if err != nil {
				return err.Error(), exitCode(err)
			}
			return "wrote " + path, ExitOK
		}}
	}
	res, err := cycle.Run(ctx, opts)
	if errors.Is(err, cycle.ErrRunning) {
		a.printf("%v", err)
		return nil
	}
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(a.stdio.Out, res); err != nil {
			return err
		}
	} else {
		for _, s := range res.Steps {
			fmt.Fprintf(a.stdio.Out, "%-10s exit %-3d %8.1f ms\n", s.Step, s.ExitCode, s.DurationMS)
		}
		fmt.Fprintf(a.stdio.Out, "cycle: exit %d in %.1f ms; log: %s\n", res.ExitCode, res.DurationMS, res.Log)
	}
	if res.ExitCode != ExitOK {
		return silent(res.ExitCode)
	}
	return nil
}

func newPreflightCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "preflight [--json]",
		Short: "Check tools, policy files, permissions, state and the hook",
		Long: `Check that clawwarden can do its job here: sudo and the openclaw CLI, the four
policy files (present and valid), the permissions of ~/.openclaw and its
security directory, the session state, the audit chain, the approval
passphrase record, and whether the sudo shim is effective. One line per
check: PASS, WARN or FAIL, with what to do.

Exit status: 0 when nothing failed, 10 when a check failed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := a.Paths()
			if err != nil {
				return err
			}
			checks := preflight.Run(cmd.Context(), preflight.Options{
				Paths: paths, Env: a.env, Getenv: a.getenv,
				Hook: func(ctx context.Context) (*hook.Status, error) {
					h, err := hook.New(paths, a.getenv)
					if err != nil {
						return nil, err
					}
					return h.Status(ctx)
				},
			})
			if asJSON {
				if checks == nil {
					checks = []preflight.Check{}
				}
				if err := writeJSON(a.stdio.Out, checks); err != nil {
					return err
				}
			} else {
				for _, c := range checks {
					fmt.Fprintf(a.stdio.Out, "%-4s  %-34s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
					if c.Fix != "" && c.Status != preflight.Pass {
						fmt.Fprintf(a.stdio.Out, "      %-34s fix: %s\n", "", c.Fix)
					}
				}
			}
			if preflight.Failed(checks) {
				return silent(ExitFindings)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
