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

func init() { subcommands = append(subcommands, subcommand{"init", newInitCmd}) }

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

// initRun is the state of one `clawwarden init`: what it did, and how many
// steps could not be completed.
type initRun struct {
	a        *app
	o        initOptions
	paths    config.Paths
	done     setup.Done
	problems int
}

func (r *initRun) fail(err error) { r.a.reportError(err); r.problems++ }

func (r *initRun) step(format string, args ...any) {
	fmt.Fprintf(r.a.stdio.Out, "\n== "+format+"\n", args...)
}

func (a *app) runInit(ctx context.Context, o initOptions) error {
	paths, err := a.Paths()
	if err != nil {
		return err
	}
	r := &initRun{a: a, o: o, paths: paths, done: setup.Done{SecurityDir: paths.SecurityDir, Enforce: o.enforce}}
	w := a.stdio.Out

	r.step("requirements")
	t, termErr := approval.OpenTerminal()
	if t != nil {
		defer t.Close()
	}
	for _, req := range setup.Requirements(ctx, nil, a.env.RealSudo, termErr == nil) {
		fmt.Fprintln(w, req)
	}

	r.step("policy files in %s", paths.SecurityDir)
	if err := r.policyFiles(ctx); err != nil {
		return err
	}

	r.step("skill")
	if err := a.skillInstall(false); err != nil {
		r.fail(err)
	} else {
		r.done.Skill = true
	}

	if o.enforce {
		if err := r.enforce(ctx, termErr == nil && !o.yes, t); err != nil {
			return err
		}
	}

	r.step("first assessment")
	if err := runAssess(ctx, a, assessOptions{openclawTimeout: 2 * time.Minute, failOn: string(assess.FailNever)}); err != nil && exitCode(err) != ExitFindings {
		r.fail(err)
	} else {
		r.done.Assessed = true
	}
	fmt.Fprintf(w, "\ndashboard: %s\n", filepath.Join(paths.ReportsDir, "compliance-dashboard.html"))
	fmt.Fprintln(w, "next steps:")
	for i, s := range setup.NextSteps(r.done) {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	if r.problems > 0 {
		a.printf("%d step(s) could not be completed; see above", r.problems)
		return silent(ExitFindings)
	}
	return nil
}

// policyFiles writes the starting policy files, keeping the person's own.
func (r *initRun) policyFiles(ctx context.Context) error {
	w, paths := r.a.stdio.Out, r.paths
	if err := safefile.EnsureDir(paths.SecurityDir); err != nil {
		return err
	}
	var cfg *openclaw.Config
	cfgPath := openclaw.ConfigPath(r.a.env.ConfigPath, paths.StateDir, paths.Home)
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
			r.problems++
			continue
		}
		out, err := starter.Write(path, data, r.o.force, f.Check, r.a.now())
		if err != nil {
			return withHint(err, "fix "+path+", or rerun 'clawwarden init --force' to replace it (a backup is kept)")
		}
		printStarter(w, path, out)
	}
	return nil
}

// enforce installs the sudo hook and the schedule and sets the approval
// passphrase on t when a person can be asked (interactive).
func (r *initRun) enforce(ctx context.Context, interactive bool, t *approval.Terminal) error {
	a, w := r.a, r.a.stdio.Out
	r.step("enforcement: sudo hook")
	if err := a.hookInstall(ctx, false); err != nil {
		r.fail(err)
	} else {
		r.done.Hook = true
	}
	r.step("enforcement: schedule")
	if installSchedule == nil {
		fmt.Fprintln(w, "the schedule is not available in this build")
		r.problems++
	} else if err := installSchedule(ctx, a); err != nil {
		r.fail(err)
	} else {
		r.done.Schedule = true
	}
	r.step("enforcement: approval passphrase")
	if pass, err := approval.LoadPassphrase(r.paths.Security(config.PassphraseFile)); err != nil {
		return err
	} else if pass != nil {
		fmt.Fprintln(w, "already set")
		r.done.Passphrase = true
	} else if !interactive {
		fmt.Fprintln(w, "not set (no terminal or --yes)")
	} else if err := a.setPassphrase(t); err != nil {
		r.fail(err)
	} else {
		r.done.Passphrase = true
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
