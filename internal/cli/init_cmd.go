package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/assess"
	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/egress"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/policy"
	"github.com/clawwarden/clawwarden/internal/ports"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
	"github.com/clawwarden/clawwarden/internal/starter"
	"github.com/clawwarden/clawwarden/internal/sudo"
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
	step := func(format string, args ...any) { fmt.Fprintf(w, "\n== "+format+"\n", args...) }

	step("requirements")
	if oc, err := exec.LookPath("openclaw"); err != nil {
		fmt.Fprintln(w, "missing: the openclaw CLI (install: npm install -g openclaw; needs Node 24 or newer)")
	} else {
		ver := "unknown version"
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		if out, err := exec.CommandContext(c, oc, "--version").Output(); err == nil {
			ver = strings.TrimSpace(string(out))
		}
		cancel()
		fmt.Fprintf(w, "ok: openclaw %s (%s)\n", ver, oc)
	}
	if sudoPath, err := sudo.Find(a.env.RealSudo); err != nil {
		fmt.Fprintf(w, "missing: %v (install: apt-get install sudo)\n", err)
	} else {
		fmt.Fprintf(w, "ok: sudo (%s)\n", sudoPath)
	}
	t, termErr := approval.OpenTerminal()
	if termErr == nil {
		fmt.Fprintln(w, "ok: a terminal for approvals")
	} else {
		fmt.Fprintln(w, "note: no terminal: approvals will wait for 'clawwarden approve ID' from your own terminal")
	}
	interactive := termErr == nil && !o.yes
	if t != nil {
		defer t.Close()
	}

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
	files := []struct {
		name  string
		data  func() ([]byte, error)
		check func(string) error
	}{
		{config.CommandPolicyFile, func() ([]byte, error) { return starter.CommandPolicy(), nil }, func(p string) error { _, err := policy.Load(p); return err }},
		{config.PromptPolicyFile, func() ([]byte, error) { return starter.PromptPolicy(), nil }, func(p string) error { _, _, err := policy.LoadPrompt(p); return err }},
		{config.EgressAllowlistFile, func() ([]byte, error) { return starter.MarshalEgress(starter.EgressAllowlist(cfg)), nil }, func(p string) error { _, err := egress.LoadAllowlist(p); return err }},
		{config.ApprovedPortsFile, func() ([]byte, error) {
			inv, err := sockets.List(ctx, sockets.Options{Listening: true})
			if err != nil {
				return nil, err
			}
			return ports.MarshalRules(ports.Baseline(inv.Sockets))
		}, func(p string) error { _, err := ports.LoadApproved(p); return err }},
	}
	for _, f := range files {
		path := paths.Security(f.name)
		data, err := f.data()
		if err != nil {
			fmt.Fprintf(w, "could not build %s: %v\n", f.name, err)
			problems++
			continue
		}
		if err := a.writeStarter(path, data, o.force, f.check); err != nil {
			return err
		}
	}

	step("skill")
	if err := a.skillInstall(false); err != nil {
		a.reportError(err)
		problems++
	}

	if o.enforce {
		step("enforcement: sudo hook")
		if err := a.hookInstall(ctx, false); err != nil {
			a.reportError(err)
			problems++
		}
		step("enforcement: schedule")
		if installSchedule == nil {
			fmt.Fprintln(w, "the schedule is not available in this build")
			problems++
		} else if err := installSchedule(ctx, a); err != nil {
			a.reportError(err)
			problems++
		}
		step("enforcement: approval passphrase")
		if pass, err := approval.LoadPassphrase(paths.Security(config.PassphraseFile)); err != nil {
			return err
		} else if pass != nil {
			fmt.Fprintln(w, "already set")
		} else if !interactive {
			fmt.Fprintln(w, "not set (no terminal or --yes): set it later with 'clawwarden approval set-passphrase'")
		} else if err := a.setPassphrase(t, nil, paths.Security(config.PassphraseFile)); err != nil {
			a.reportError(err)
			problems++
		}
	}

	step("first assessment")
	if err := runAssess(ctx, a, assessOptions{openclawTimeout: 2 * time.Minute, failOn: string(assess.FailNever)}); err != nil && exitCode(err) != ExitFindings {
		a.reportError(err)
		problems++
	}
	fmt.Fprintf(w, "\ndashboard: %s\n", filepath.Join(paths.ReportsDir, "compliance-dashboard.html"))
	fmt.Fprintln(w, "next steps:")
	fmt.Fprintf(w, "  1. review and prune the policy files in %s (approved_ports.json lists what listens now)\n", paths.SecurityDir)
	if o.enforce {
		fmt.Fprintln(w, "  2. restart the OpenClaw gateway so the agent's sudo goes through clawwarden, then check: clawwarden hook status")
	} else {
		fmt.Fprintln(w, "  2. route the agent's sudo through clawwarden: clawwarden hook install (or rerun init with --enforce)")
	}
	fmt.Fprintln(w, "  3. open the dashboard, fix the violations it lists, and run: clawwarden assess")
	if problems > 0 {
		a.printf("%d step(s) could not be completed; see above", problems)
		return silent(ExitFindings)
	}
	return nil
}

// writeStarter writes a starting policy file unless one exists. An existing
// file is kept (and checked); how it differs from the template is shown.
// With force it is replaced and kept as FILE.bak-TIME.
func (a *app) writeStarter(path string, data []byte, force bool, check func(string) error) error {
	w := a.stdio.Out
	old, err := safefile.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := safefile.WriteFile(path, data); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s\n", path)
		return nil
	case err != nil:
		return err
	case bytes.Equal(old, data):
		fmt.Fprintf(w, "kept %s (same as the template)\n", path)
		return nil
	case !force:
		if err := check(path); err != nil {
			return withHint(err, "fix "+path+", or rerun 'clawwarden init --force' to replace it (a backup is kept)")
		}
		fmt.Fprintf(w, "kept %s (yours; it differs from the template:)\n", path)
		fmt.Fprint(w, indent(diffText(old, data), "    "))
		return nil
	}
	backup := fmt.Sprintf("%s.bak-%s", path, a.now().UTC().Format("20060102T150405Z"))
	if err := safefile.WriteFile(backup, old); err != nil {
		return err
	}
	if err := safefile.WriteFile(path, data); err != nil {
		return err
	}
	fmt.Fprintf(w, "replaced %s (previous kept as %s)\n", path, backup)
	return nil
}

// diffText is a unified diff of old (yours) and new (template) from
// diff(1), or a note when diff is unavailable.
func diffText(old, new []byte) string {
	dir, err := os.MkdirTemp("", "clawwarden-diff-")
	if err != nil {
		return "(cannot show the difference)\n"
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "yours"), filepath.Join(dir, "template")
	os.WriteFile(a, old, 0o600)
	os.WriteFile(b, new, 0o600)
	out, err := exec.Command("diff", "-u", "--label", "yours", "--label", "template", a, b).Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return "(diff is not installed: cannot show the difference)\n"
	}
	return string(out)
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}

// installSchedule installs the schedule; set by the schedule command's file.
var installSchedule func(ctx context.Context, a *app) error
