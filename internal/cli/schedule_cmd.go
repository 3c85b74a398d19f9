package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawwarden/clawwarden/internal/schedule"
)

func init() {
	subcommands = append(subcommands, subcommand{"schedule", newScheduleCmd})
	installSchedule = func(_ context.Context, a *app) error { return a.scheduleInstall(time.Hour) }
}

func newScheduleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run 'clawwarden cycle' periodically (systemd timer, LaunchAgent or cron)",
		Long: `Schedule runs 'clawwarden cycle' at a fixed interval with the first scheduler
this host has:

  systemd  Linux with a systemd user manager ('systemctl --user' works):
           ~/.config/systemd/user/clawwarden-cycle.service and
           clawwarden-cycle.timer (OnBootSec=5min, OnUnitActiveSec=<every>,
           Persistent=true), enabled with 'systemctl --user enable --now'
  launchd  macOS: ~/Library/LaunchAgents/ai.clawwarden.cycle.plist
           (StartInterval=<every>), loaded with 'launchctl bootstrap gui/<uid>'
  cron     otherwise, when a crontab command exists: one line in your
           crontab ending in "# clawwarden-cycle"; other lines are kept as
           they are

The job runs this clawwarden binary by its absolute path, with
OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH and OPENCLAW_CYBER_SKILL_DIR as they
are set when you install. What install wrote is recorded in
~/.openclaw/security/schedule-state.json; remove deletes exactly that.`,
		Args: noArgs,
	}
	var everyStr string
	install := &cobra.Command{
		Use:   "install [--every DURATION]",
		Short: "Schedule 'clawwarden cycle' (again: same files, one crontab line)",
		Long: `Install schedules 'clawwarden cycle' every DURATION (a Go duration, default
1h, minimum 5m). Cron can only express some intervals (5m…30m dividing an
hour, 1h…24h dividing a day); others are rounded to the nearest one and the
output says so. Hourly and longer cron schedules fire at a minute derived from
your user name, so hosts do not all run at once.

Exit status: 0 scheduled, 10 no scheduler available (install cron, or run
under a systemd user session), 12 unsafe or corrupt file, 64 bad --every.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			every, err := schedule.ParseEvery(everyStr)
			if err != nil {
				return usageErr("%v", err)
			}
			return a.scheduleInstall(every)
		},
	}
	install.Flags().StringVar(&everyStr, "every", schedule.DefaultEvery.String(), "interval between runs (Go duration, minimum 5m)")
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove what 'schedule install' wrote (nothing installed: no-op)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.scheduleRemove()
		},
	}
	var statusJSON bool
	status := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show whether the cycle is scheduled and when it runs next",
		Long: `Status prints one fact per line, or with --json an object with installed,
backend, every, next_run, last_run, paths, detail and running. Running says
whether the scheduler that runs the job is alive: for cron, a cron daemon
process; a crontab line nobody reads never runs.

Exit status: 0 scheduled and a scheduler runs it, 10 not scheduled or
nothing runs it, 12 corrupt state file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.scheduleStatus(statusJSON)
		},
	}
	status.Flags().BoolVar(&statusJSON, "json", false, "print the status as JSON")
	cmd.AddCommand(install, remove, status)
	return cmd
}

// scheduleConfig gathers what package schedule needs from this process.
func (a *app) scheduleConfig(needExe bool) (schedule.Config, error) {
	p, err := a.Paths()
	if err != nil {
		return schedule.Config{}, err
	}
	c := schedule.Config{
		Home:        p.Home,
		SecurityDir: p.SecurityDir,
		StateDir:    p.StateDir,
		UID:         os.Getuid(),
		GOOS:        runtime.GOOS,
		LookPath:    exec.LookPath,
		Now:         a.now,
		User:        a.getenv("USER"),
	}
	if u, err := user.Current(); err == nil {
		c.User = u.Username
	}
	for _, name := range schedule.PassedEnv {
		if v := a.getenv(name); v != "" {
			c.Env = append(c.Env, schedule.EnvVar{Name: name, Value: v})
		}
	}
	if needExe {
		exe, err := os.Executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		if err != nil {
			return c, fmt.Errorf("find the clawwarden binary: %w", err)
		}
		c.Exe = exe
	}
	return c, nil
}

func (a *app) scheduleInstall(d time.Duration) error {
	c, err := a.scheduleConfig(true)
	if err != nil {
		return err
	}
	res, err := schedule.Install(c, d)
	if errors.Is(err, schedule.ErrNoBackend) {
		return withHint(err,
			"install cron (Debian/Ubuntu: apt-get install cron) or run under a systemd user session (loginctl enable-linger $USER)")
	}
	if err != nil {
		return err
	}
	out := a.stdio.Out
	fmt.Fprintf(out, "scheduled: clawwarden cycle every %s (%s)\n", res.State.Every, res.State.Backend)
	if res.Rounded != 0 {
		fmt.Fprintf(out, "note: cron cannot run every %s; rounded to %s\n", d, res.Rounded)
	}
	if res.State.CronLine != "" {
		fmt.Fprintf(out, "crontab line: %s\n", res.State.CronLine)
	} else {
		for _, p := range res.State.Paths {
			fmt.Fprintf(out, "wrote: %s\n", p)
		}
	}
	return nil
}

func (a *app) scheduleRemove() error {
	c, err := a.scheduleConfig(false)
	if err != nil {
		return err
	}
	s, err := schedule.Remove(c)
	if err != nil {
		return err
	}
	if s == nil {
		fmt.Fprintln(a.stdio.Out, "not installed: nothing to remove")
		return nil
	}
	if s.Backend == schedule.Cron {
		fmt.Fprintf(a.stdio.Out, "removed: the crontab line marked %q\n", schedule.CronMarker)
	} else {
		for _, p := range s.Paths {
			fmt.Fprintf(a.stdio.Out, "removed: %s\n", p)
		}
	}
	fmt.Fprintf(a.stdio.Out, "unscheduled: clawwarden cycle (%s)\n", s.Backend)
	return nil
}

func (a *app) scheduleStatus(asJSON bool) error {
	c, err := a.scheduleConfig(false)
	if err != nil {
		return err
	}
	st, err := schedule.GetStatus(c)
	if err != nil {
		return err
	}
	if asJSON {
		if st.Paths == nil {
			st.Paths = []string{}
		}
		enc := json.NewEncoder(a.stdio.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else {
		yes := "no"
		if st.Installed {
			yes = "yes"
		}
		fmt.Fprintf(a.stdio.Out, "installed: %s\n", yes)
		for _, kv := range [][2]string{
			{"backend", st.Backend}, {"every", st.Every}, {"next run", st.NextRun},
			{"last run", st.LastRun}, {"paths", strings.Join(st.Paths, " ")}, {"detail", st.Detail},
		} {
			if kv[1] != "" {
				fmt.Fprintf(a.stdio.Out, "%s: %s\n", kv[0], kv[1])
			}
		}
	}
	if !st.InEffect() {
		return silent(ExitFindings)
	}
	return nil
}
