// Package schedule installs, removes and reports the periodic run of
// `clawwarden cycle`: a systemd user timer on Linux when a user manager is
// reachable, a LaunchAgent on macOS, otherwise one crontab line.
//
// # What is written
//
//   - systemd: ~/.config/systemd/user/clawwarden-cycle.service and
//     clawwarden-cycle.timer, then `systemctl --user daemon-reload` and
//     `systemctl --user enable --now clawwarden-cycle.timer`
//   - launchd: ~/Library/LaunchAgents/ai.clawwarden.cycle.plist, loaded with
//     `launchctl bootstrap gui/<uid>`
//   - cron: one line ending in "# clawwarden-cycle" in the user's crontab,
//     read with `crontab -l` and written back with `crontab FILE`; every
//     other line is kept byte for byte
//
// What was installed is recorded in ~/.openclaw/security/schedule-state.json
// ([StateFile]); remove undoes exactly that. systemctl, launchctl and
// crontab run through [Config.Runner] (a command.Runner), so tests answer
// them; quoting, plist coding and crontab editing are package unitfile's.
package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/unitfile"
)

// Names of what install writes.
const (
	ServiceName = "clawwarden-cycle.service"
	TimerName   = "clawwarden-cycle.timer"
	Label       = "ai.clawwarden.cycle"
	CronMarker  = "# clawwarden-cycle"
)

// MinEvery and DefaultEvery bound and default the interval.
const (
	MinEvery     = 5 * time.Minute
	DefaultEvery = time.Hour
)

// ErrBadEvery marks an interval that is not a duration or is below [MinEvery].
var ErrBadEvery = errors.New("invalid interval")

// ParseEvery parses the --every value.
func ParseEvery(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("--every %q: %w: want a Go duration such as 30m or 2h", s, ErrBadEvery)
	}
	if d < MinEvery {
		return 0, fmt.Errorf("--every %s: %w: the minimum is %s", d, ErrBadEvery, MinEvery)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("--every %s: %w: use whole seconds", d, ErrBadEvery)
	}
	return d, nil
}

// EnvVar is one variable passed to the scheduled cycle.
type EnvVar struct {
	Name, Value string
}

// PassedEnv lists the variables install copies into the job when set.
var PassedEnv = []string{"OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_CYBER_SKILL_DIR", "CLAWWARDEN_PROMETHEUS_TEXTFILE_DIR"}

// RenderService returns clawwarden-cycle.service running exe with "cycle".
// systemd refuses an executable path with a quote or backslash ("Executable
// name contains special characters"), so such a path is refused here.
func RenderService(exe string, env []EnvVar) ([]byte, error) {
	if err := unitfile.CheckValue(exe); err != nil {
		return nil, err
	}
	if strings.ContainsAny(exe, `"'\`) {
		return nil, fmt.Errorf("systemd cannot run %q: the path contains a quote or backslash; move clawwarden to a plain path and install again", exe)
	}
	var b bytes.Buffer
	b.WriteString(`# Written by clawwarden ("clawwarden schedule install");
# "clawwarden schedule remove" deletes it.
[Unit]
Description=clawwarden security cycle

[Service]
Type=oneshot
`)
	fmt.Fprintf(&b, "ExecStart=%s cycle\n", unitfile.Quote(exe))
	for _, e := range env {
		if err := unitfile.CheckValue(e.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		fmt.Fprintf(&b, "Environment=%s\n", unitfile.Assignment(e.Name, e.Value))
	}
	return b.Bytes(), nil
}

// RenderTimer returns clawwarden-cycle.timer firing every interval.
func RenderTimer(every time.Duration) []byte {
	return fmt.Appendf(nil, `# Written by clawwarden ("clawwarden schedule install");
# "clawwarden schedule remove" deletes it.
[Unit]
Description=Run clawwarden cycle every %s

[Timer]
OnBootSec=5min
OnUnitActiveSec=%ds
Persistent=true
Unit=%s

[Install]
WantedBy=timers.target
`, every, int64(every/time.Second), ServiceName)
}

// RenderPlist returns the LaunchAgent property list (XML).
func RenderPlist(exe string, every time.Duration, env []EnvVar) ([]byte, error) {
	if err := unitfile.CheckValue(exe); err != nil {
		return nil, err
	}
	doc := map[string]any{
		"Label":            Label,
		"ProgramArguments": []string{exe, "cycle"},
		"StartInterval":    int64(every / time.Second),
		"RunAtLoad":        false,
	}
	if len(env) > 0 {
		m := map[string]string{}
		for _, e := range env {
			if err := unitfile.CheckValue(e.Value); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Name, err)
			}
			m[e.Name] = e.Value
		}
		doc["EnvironmentVariables"] = m
	}
	return unitfile.EncodePlist(doc, unitfile.PlistXML)
}

// cronSteps are the intervals a crontab line can express evenly.
var cronSteps = []time.Duration{
	5 * time.Minute, 6 * time.Minute, 10 * time.Minute, 12 * time.Minute,
	15 * time.Minute, 20 * time.Minute, 30 * time.Minute,
	1 * time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour,
	6 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// CronSpec returns the five cron fields for every, and the interval they
// really give (different from every when it had to be rounded). Hourly and
// longer schedules fire at a minute derived from user, so hosts do not all
// fire at once.
func CronSpec(every time.Duration, user string) (string, time.Duration) {
	best := cronSteps[0]
	for _, s := range cronSteps {
		if absDur(s-every) < absDur(best-every) {
			best = s
		}
	}
	if best < time.Hour {
		return fmt.Sprintf("*/%d * * * *", int(best/time.Minute)), best
	}
	h := fnv.New32a()
	h.Write([]byte(user))
	minute := h.Sum32() % 60
	hours := int(best / time.Hour)
	if hours == 1 {
		return fmt.Sprintf("%d * * * *", minute), best
	}
	return fmt.Sprintf("%d */%d * * *", minute, hours), best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// RenderCronLine returns the crontab line (without newline) for spec.
func RenderCronLine(spec, exe string, env []EnvVar) (string, error) {
	if err := unitfile.CheckValue(exe); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(spec)
	if strings.Contains(exe, `\`) {
		return "", fmt.Errorf("%q: a backslash cannot be quoted safely in a crontab line (cron reads %% after it)", exe)
	}
	for _, e := range env {
		if err := unitfile.CheckValue(e.Value); err != nil {
			return "", fmt.Errorf("%s: %w", e.Name, err)
		}
		if strings.Contains(e.Value, `\`) {
			return "", fmt.Errorf("%s=%q: a backslash cannot be quoted safely in a crontab line (cron reads %% after it)", e.Name, e.Value)
		}
		b.WriteString(" " + e.Name + "=" + unitfile.CronQuote(e.Value))
	}
	b.WriteString(" " + unitfile.CronQuote(exe) + " cycle >/dev/null 2>&1 " + CronMarker)
	return b.String(), nil
}
