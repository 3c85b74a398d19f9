package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/preflight"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

func init() { subcommands = append(subcommands, newCycleCmd, newPreflightCmd) }

// cycleSteps are the commands one cycle runs, in order.
var cycleSteps = [][]string{
	{"preflight"},
	{"ports"},
	{"egress"},
	{"assess", "--fail-on", "violation"},
	{"notify"},
}

type cycleStep struct {
	Step       string  `json:"step"`
	ExitCode   int     `json:"exit_code"`
	DurationMS float64 `json:"duration_ms"`
}

type cycleResult struct {
	Started    time.Time   `json:"started"`
	DurationMS float64     `json:"duration_ms"`
	Log        string      `json:"log"`
	Steps      []cycleStep `json:"steps"`
	ExitCode   int         `json:"exit_code"`
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
	logPath := paths.CycleLog()
	if err := safefile.EnsureDir(filepath.Dir(logPath)); err != nil {
		return err
	}
	lock, err := safefile.TryLockFor(logPath)
	if errors.Is(err, safefile.ErrLocked) {
		a.printf("another cycle is running; not starting a second one")
		return nil
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()
	log, err := safefile.OpenAppend(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}

	res := cycleResult{Started: a.now().UTC(), Log: logPath}
	start := time.Now()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s cycle start (pid %d)\n", res.Started.Format(time.RFC3339), os.Getpid())
	for _, step := range cycleSteps {
		t0 := time.Now()
		c := exec.CommandContext(ctx, self, step...)
		c.Env = os.Environ()
		out, runErr := c.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		switch {
		case errors.As(runErr, &ee):
			code = ee.ExitCode()
		case runErr != nil:
			code = ExitInternal
			out = append(out, []byte(runErr.Error()+"\n")...)
		}
		d := time.Since(t0)
		// Steps are named by their command, as the log always named them.
		res.Steps = append(res.Steps, cycleStep{Step: step[0], ExitCode: code, DurationMS: float64(d.Microseconds()) / 1000})
		fmt.Fprintf(&buf, "%s step %s: exit %d in %s\n", a.now().UTC().Format(time.RFC3339), step[0], code, d.Round(time.Millisecond))
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(&buf, "    %s\n", line)
			}
		}
		switch {
		case code == ExitOK:
		case code == ExitFindings:
			if res.ExitCode == ExitOK {
				res.ExitCode = ExitFindings
			}
		case res.ExitCode == ExitOK || res.ExitCode == ExitFindings:
			res.ExitCode = code
		}
	}
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	fmt.Fprintf(&buf, "%s cycle end: exit %d in %.0f ms\n", a.now().UTC().Format(time.RFC3339), res.ExitCode, res.DurationMS)
	if _, err := log.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", logPath, err)
	}
	if err := log.Sync(); err != nil {
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
		fmt.Fprintf(a.stdio.Out, "cycle: exit %d in %.1f ms; log: %s\n", res.ExitCode, res.DurationMS, logPath)
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
