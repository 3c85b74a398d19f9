package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/setup"
	"github.com/clawwarden/clawwarden/internal/starter"
)

func init() { subcommands = append(subcommands, newInitCmd) }

type initOptions struct {
	enforce bool
	yes     bool
	force   bool
}

func newInitCmd(a *app) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [--enforce] [--yes] [--force]",
		Short: "Set clawwarden up once: check requirements, write starting policies, install the skill, assess",
		Long: `Set clawwarden up on this host, once:

  1. check what it needs (the openclaw CLI and its version, sudo, a terminal
     for approvals) and say what is missing and how to get it;
  2. write starting policy files under ~/.openclaw/security/: command-policy.json
     (every entry with a comment saying why), prompt-policy.json,
     egress_allowlist.json (the model providers and chat services openclaw.json
     names) and approved_ports.json (the current listeners, to review). An
     existing file is never overwritten: init shows how it differs from the
     template instead; --force replaces it and keeps a backup;
  3. install the OpenClaw skill;
  4. with --enforce (the original's ENFORCE_PRIVILEGED_EXEC=1), also install
     the sudo hook and the schedule, and set the approval passphrase on the
     terminal;
  5. run a first assessment and print where the dashboard is.

Without a terminal, or with --yes, it takes the safe defaults and asks
nothing (the passphrase is then left for 'clawwarden approval set-passphrase').

Exit status: 0 done, 10 a step could not be completed (each is reported),
12 an existing file is unsafe or malformed, 64 usage.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runInit(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.enforce, "enforce", false, "also install the sudo hook and the schedule, and set the approval passphrase")
	f.BoolVar(&o.yes, "yes", false, "ask nothing; take the safe defaults")
	f.BoolVar(&o.force, "force", false, "replace existing policy files (each is kept as FILE.bak-TIME)")
	return cmd
}

func (a *app) runInit(ctx context.Context, o initOptions) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	w := a.stdio.Out
	problems := 0
	fail := func(err error) { a.reportError(err); problems++ }
	step := func(format string, args ...any) { fmt.Fprintf(w, "\n== "+format+"\n", args...) }
	done := setup.Done{SecurityDir: paths.SecurityDir, Enforce: o.enforce}

	step("requirements")
	t, termErr := approval.OpenTerminal()
	if t != nil {
		defer t.Close()
	}
	for _, r := range setup.Requirements(ctx, nil, a.env.RealSudo, termErr == nil) {
		fmt.Fprintln(w, r)
	}
	interactive := termErr == nil && !o.yes

	step("policy files in %s", paths.SecurityDir)
	if err := safefile.EnsureDir(paths.SecurityDir); err != nil {
		return err
	}
	var cfg *openclaw.Config
	cfgPath := openclaw.ConfigPath(a.env.ConfigPath, paths.StateDir, paths.Home)
	if c, err := openclaw.LoadConfig(cfgPath); err == nil {
		cfg = c
	} else if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "note: cannot read %s (%v): the egress allowlist starts empty\n", cfgPath, err)
	}
	for _, f := range starter.Files(cfg) {
		path := paths.Security(f.Name)
		data, err := f.Data(ctx)
		if err != nil {
			fmt.Fprintf(w, "could not build %s: %v\n", f.Name, err)
			problems++
			continue
		}
		out, err := starter.Write(path, data, o.force, f.Check, a.now())
		if err != nil {
			return withHint(err, "fix "+path+", or rerun 'clawwarden init --force' to replace it (a backup is kept)")
		}
		printStarter(w, path, out)
	}

	step("skill")
	if err := a.skillInstall(false); err != nil {
		fail(err)
	} else {
		done.Skill = true
	}

	if o.enforce {
		step("enforcement: sudo hook")
		if err := a.hookInstall(ctx, false); err != nil {
			fail(err)
		} else {
			done.Hook = true
		}
		step("enforcement: schedule")
		if installSchedule == nil {
			fmt.Fprintln(w, "the schedule is not available in this build")
			problems++
		} else if err := installSchedule(ctx, a); err != nil {
			fail(err)
		} else {
			done.Schedule = true
		}
		step("enforcement: approval passphrase")
		if pass, err := approval.LoadPassphrase(paths.Security(config.PassphraseFile)); err != nil {
			return err
		} else if pass != nil {
			fmt.Fprintln(w, "already set")
			done.Passphrase = true
		} else if !interactive {
			fmt.Fprintln(w, "not set (no terminal or --yes)")
		} else if err := a.setPassphrase(t); err != nil {
			fail(err)
		} else {
			done.Passphrase = true
		}
	}

	step("first assessment")
	if err := runAssess(ctx, a, assessOptions{openclawTimeout: 2 * time.Minute, failOn: string(assess.FailNever)}); err != nil && exitCode(err) != ExitFindings {
		fail(err)
	} else {
		done.Assessed = true
	}
	fmt.Fprintf(w, "\ndashboard: %s\n", filepath.Join(paths.ReportsDir, "compliance-dashboard.html"))
	fmt.Fprintln(w, "next steps:")
	for i, s := range setup.NextSteps(done) {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	if problems > 0 {
		a.printf("%d step(s) could not be completed; see above", problems)
		return silent(ExitFindings)
	}
	return nil
}

// printStarter says what init did with one starting policy file.
func printStarter(w io.Writer, path string, out starter.Outcome) {
	switch out.Action {
	case starter.Wrote:
		fmt.Fprintf(w, "wrote %s\n", path)
	case starter.Same:
		fmt.Fprintf(w, "kept %s (same as the template)\n", path)
	case starter.Kept:
		fmt.Fprintf(w, "kept %s (yours; it differs from the template:)\n", path)
		for _, line := range strings.SplitAfter(out.Diff, "\n") {
			if line != "" {
				fmt.Fprint(w, "    "+line)
			}
		}
	case starter.Replaced:
		fmt.Fprintf(w, "replaced %s (previous kept as %s)\n", path, out.Backup)
	}
}

// installSchedule installs the schedule; set by the schedule command's file.
var installSchedule func(ctx context.Context, a *app) error
