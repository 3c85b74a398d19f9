package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/approval"
	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

func init() { subcommands = append(subcommands, subcommand{"hook", newHookCmd}) }

func newHookCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install, remove or check the opt-in sudo shim on the agent's PATH",
		Long: `The runtime hook makes a "sudo" run by an OpenClaw agent go through
clawwarden's approval-first guard. It has layers:

  shim         ~/.openclaw/bin/sudo, a symlink to this clawwarden binary
               (invoked as "sudo", clawwarden acts as the shim)
  sudoedit_shim
               ~/.openclaw/bin/sudoedit, a second symlink to this binary
               (invoked as "sudoedit", the agent's sudoedit goes through the
               guard too)
  pathPrepend  OpenClaw's tools.exec.pathPrepend with ~/.openclaw/bin first,
               set with 'openclaw config set' (the openclaw command must be on
               PATH); agents with their own pathPrepend get it too; applies
               without a gateway restart
  systemd      Linux, when the gateway runs as a systemd user service: the
               drop-in ~/.config/systemd/user/openclaw-gateway.service.d/
               zz-clawwarden-path.conf that puts ~/.openclaw/bin first on the
               service's PATH and sets OPENCLAW_EXEC_SHELL_SNAPSHOT=0 (OpenClaw's
               exec shell snapshots off); needs a gateway restart
  launchd      macOS, when the gateway runs as a LaunchAgent: PATH in
               ~/Library/LaunchAgents/ai.openclaw.gateway.plist, after a
               confirmation on the terminal (OPENCLAW_SKIP_PLIST_CONFIRM=1 skips
               it) and with a backup; needs a gateway restart
  shell_aliases
               status only: an alias or shell function named sudo or sudoedit
               in OpenClaw's exec shell snapshots (~/.openclaw/cache/
               shell-snapshots/*.sh) or the startup files they come from
               (~/.bashrc, ~/.bash_aliases, ~/.zshrc, /etc/bash.bashrc, ...)
               decides what the agent's "sudo" runs before PATH, so it skips
               the shim; where install cannot set OPENCLAW_EXEC_SHELL_SNAPSHOT=0
               (no systemd user unit, macOS) it says so
  plugin       clawwarden's OpenClaw plugin, written to
               ~/.openclaw/security/openclaw-plugin and linked with 'openclaw
               plugins install --link' (accepting its hooks): it gives every
               exec the session key (OPENCLAW_TASK_SESSION_ID) and a reason
               (OPENCLAW_PRIV_REASON), and blocks exec commands that reach root
               around the shim (sudo by path, su, pkexec, doas, run0, an alias
               or function named sudo); defence in depth, not the boundary;
               needs a gateway restart

OPENCLAW_STATE_DIR, OPENCLAW_PROFILE, OPENCLAW_SYSTEMD_UNIT and
OPENCLAW_LAUNCHD_LABEL select the files as they do for OpenClaw.
What install changed is recorded in ~/.openclaw/security/hook-state.json, and
uninstall restores exactly that.`,
		Args: noArgs,
	}
	var installJSON, uninstallJSON, statusJSON, statusRuntime bool
	install := &cobra.Command{
		Use:   "install [--json]",
		Short: "Create the shim and put its directory first on the agent's PATH",
		Long: `Install creates ~/.openclaw/bin/sudo and ~/.openclaw/bin/sudoedit and puts ~/.openclaw/bin first on the
exec tool's PATH (see 'clawwarden help hook' for the layers), prints what it
changed and what to restart, and records the changes for uninstall. Running it
again changes nothing that is already in place.

It refuses, changing nothing, when ~/.openclaw/bin/sudo or sudoedit is something
other than a symlink to a clawwarden binary it recorded (for example the original skill's
shell shim: move it aside first), or when a target is a symlink or belongs to
another user.

Exit status: 0 the hook is in place (a service layer may still need the
restart it prints), 10 the hook could not be put in effect (for example the
openclaw command is missing and there is no service to change: the output says
how to finish by hand), 12 refused: unsafe target or corrupt state file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.hookInstall(cmd.Context(), installJSON)
		},
	}
	install.Flags().BoolVar(&installJSON, "json", false, "print the steps as JSON")
	uninstall := &cobra.Command{
		Use:   "uninstall [--json]",
		Short: "Restore exactly what 'hook install' changed",
		Long: `Uninstall undoes what ~/.openclaw/security/hook-state.json records, and
nothing else: the pathPrepend value goes back to what 'openclaw config get'
returned before install (or unset again), the drop-in or plist edit is undone
(the plist from its backup), and the shim symlinks are removed. Where something
changed again since install, only clawwarden's part is taken out and the rest
is kept.

Exit status: 0 done (or nothing was installed), 10 something could not be
undone (it stays recorded; the output says how to finish, or run uninstall
again), 12 unsafe target or corrupt state file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.hookUninstall(cmd.Context(), uninstallJSON)
		},
	}
	uninstall.Flags().BoolVar(&uninstallJSON, "json", false, "print the steps as JSON")
	status := &cobra.Command{
		Use:   "status [--json] [--runtime]",
		Short: "Report each layer of the hook and whether it is in effect",
		Long: `Status reports each layer: the sudo and sudoedit shims (present, pointing at this binary),
pathPrepend (set, ~/.openclaw/bin first, for every agent), the systemd drop-in
or LaunchAgent plist, whether the gateway was restarted since that was
written ("unknown" when the service manager cannot tell), any alias or shell
function named sudo or sudoedit that OpenClaw's exec shell loads, and the plugin as
'openclaw plugins list --json' reports it (installed from clawwarden's folder,
enabled, loaded); with --runtime, as 'openclaw plugins inspect clawwarden
--runtime' reports it after loading its code (its hooks registered), which
takes tens of seconds.

The hook is effective when both shims are in place, either pathPrepend puts
it first or the service layer does and the gateway restarted since, and no
alias or function named sudo or sudoedit reaches the exec shell. The plugin is
reported but does not decide it: it is defence in depth.

--json prints {"effective","binary","shim","sudoedit_shim","bin_dir","state_file","installed",
"installed_at","layers":[{"layer","state","detail","fix"}]}; states are ok,
missing, stale, partial, overridden, unknown and not_applicable.

Exit status: 0 effective, 10 not effective, 12 unsafe or corrupt state file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.hookStatus(cmd.Context(), statusJSON, statusRuntime)
		},
	}
	status.Flags().BoolVar(&statusJSON, "json", false, "print JSON")
	status.Flags().BoolVar(&statusRuntime, "runtime", false, "load the plugin to check the hooks it registers (tens of seconds)")
	cmd.AddCommand(install, uninstall, status)
	return cmd
}

// newHook builds the hook for this user, asking for confirmations on the
// controlling terminal.
func (a *app) newHook() (*hook.Hook, error) {
	paths, err := a.Paths()
	if err != nil {
		return nil, err
	}
	h, err := hook.New(paths, a.getenv)
	if err != nil {
		return nil, err
	}
	h.SkipConfirm = a.env.SkipPlistConfirm
	h.Confirm = confirmOnTerminal
	h.Now = a.now
	return h, nil
}

// confirmOnTerminal asks a yes/no question on /dev/tty, never on standard
// input. Without a terminal the answer is no.
func confirmOnTerminal(question string) (bool, error) {
	t, err := approval.OpenTerminal()
	if err != nil {
		return false, err
	}
	defer t.Close()
	ans, err := t.Line(question + " [y/N] ")
	if err != nil {
		return false, err
	}
	ans = strings.ToLower(strings.TrimSpace(ans))
	return ans == "y" || ans == "yes", nil
}

// hookError adds the hook's hints to err.
func hookError(err error, statePath string) error {
	var he *hook.Error
	switch {
	case errors.As(err, &he):
		return withHint(err, he.Hints...)
	case errors.Is(err, safefile.ErrInvalid):
		return withHint(err, "the record of what 'hook install' changed is unreadable: move it aside (mv "+statePath+" "+statePath+".bad), "+
			"then 'clawwarden hook status' shows what is in place; uninstall can no longer tell what install changed")
	}
	return err
}

func (a *app) hookInstall(ctx context.Context, asJSON bool) error {
	h, err := a.newHook()
	if err != nil {
		return err
	}
	r, err := h.Install(ctx)
	if asJSON {
		if jerr := writeJSON(a.stdio.Out, r); jerr != nil {
			return jerr
		}
	} else {
		printReport(a.stdio.Out, r)
	}
	if err != nil {
		return hookError(err, h.StatePath())
	}
	prependOK := (r.Has(hook.LayerPathPrepend, hook.Changed) || r.Has(hook.LayerPathPrepend, hook.Unchanged)) && !r.Has(hook.LayerPathPrepend, hook.Failed)
	serviceOK := r.Has(hook.LayerSystemd, hook.Changed) || r.Has(hook.LayerSystemd, hook.Unchanged) ||
		r.Has(hook.LayerLaunchd, hook.Changed) || r.Has(hook.LayerLaunchd, hook.Unchanged)
	switch {
	case prependOK:
	case serviceOK:
		if !asJSON {
			fmt.Fprintln(a.stdio.Out, "the hook takes effect when the gateway restarts")
		}
	default:
		return withCode(ExitFindings, withHint(errors.New("the hook is not in effect: tools.exec.pathPrepend is not set and no gateway service PATH was changed"),
			"follow the hints above, then check with 'clawwarden hook status'"))
	}
	if !asJSON {
		fmt.Fprintln(a.stdio.Out, "check with: clawwarden hook status")
	}
	return nil
}

func (a *app) hookUninstall(ctx context.Context, asJSON bool) error {
	h, err := a.newHook()
	if err != nil {
		return err
	}
	r, err := h.Uninstall(ctx)
	if asJSON {
		if jerr := writeJSON(a.stdio.Out, r); jerr != nil {
			return jerr
		}
	} else {
		printReport(a.stdio.Out, r)
	}
	if errors.Is(err, hook.ErrIncomplete) {
		return withHint(err, "what is left is still recorded in "+h.StatePath()+": follow the hints above, or run 'clawwarden hook uninstall' again")
	}
	return hookError(err, h.StatePath())
}

// printReport writes install/uninstall steps for people.
func printReport(w io.Writer, r *hook.Report) {
	for _, s := range r.Steps {
		switch s.Result {
		case hook.Skipped:
			fmt.Fprintf(w, "%s: skipped: %s\n", s.Layer, s.Detail)
		case hook.Failed:
			fmt.Fprintf(w, "%s: FAILED: %s\n", s.Layer, s.Detail)
		default:
			fmt.Fprintf(w, "%s: %s\n", s.Layer, s.Detail)
		}
		if s.Hint != "" {
			fmt.Fprintf(w, "  hint: %s\n", s.Hint)
		}
	}
	if len(r.Restart) > 0 {
		seen := map[string]bool{}
		for _, c := range r.Restart {
			if !seen[c] {
				seen[c] = true
				fmt.Fprintf(w, "restart the gateway (if it runs) to pick up the change: %s\n", c)
			}
		}
	}
}

func (a *app) hookStatus(ctx context.Context, asJSON, runtime bool) error {
	h, err := a.newHook()
	if err != nil {
		return err
	}
	h.PluginRuntime = runtime
	s, err := h.Status(ctx)
	if err != nil {
		return hookError(err, h.StatePath())
	}
	if asJSON {
		if err := writeJSON(a.stdio.Out, s); err != nil {
			return err
		}
	} else {
		w := a.stdio.Out
		if s.Effective {
			fmt.Fprintln(w, "hook: effective: the agent's sudo goes through clawwarden")
		} else {
			fmt.Fprintln(w, "hook: NOT effective: the agent's sudo does not go through clawwarden")
		}
		rows := [][]string{}
		for _, l := range s.Layers {
			rows = append(rows, []string{l.Layer, l.State, l.Detail})
		}
		width := [2]int{}
		for _, r := range rows {
			width[0] = max(width[0], len(r[0]))
			width[1] = max(width[1], len(r[1]))
		}
		for i, r := range rows {
			fmt.Fprintf(w, "  %-*s  %-*s  %s\n", width[0], r[0], width[1], r[1], r[2])
			if f := s.Layers[i].Fix; f != "" {
				fmt.Fprintf(w, "  %-*s  %-*s  fix: %s\n", width[0], "", width[1], "", f)
			}
		}
		if s.Installed && s.InstalledAt != nil {
			fmt.Fprintf(w, "state: %s (last install %s)\n", s.StateFile, s.InstalledAt.Local().Format(time.RFC3339))
		} else {
			fmt.Fprintf(w, "state: %s (no install recorded)\n", s.StateFile)
		}
	}
	if !s.Effective {
		return silent(ExitFindings)
	}
	return nil
}
