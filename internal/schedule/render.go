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
// ([StateFile]); remove undoes exactly that. External commands run through a
// [Runner] so the logic is testable.
package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"howett.net/plist"
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
var PassedEnv = []string{"OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_CYBER_SKILL_DIR"}

// checkValue refuses what cannot be written on one line of a unit file,
// plist string or crontab.
func checkValue(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("value %q is not valid UTF-8", v)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("value %q contains a control character", v)
		}
	}
	return nil
}

// systemdQuote renders s as one double-quoted unit-file word: backslash and
// double quote escaped C-style and % doubled (specifiers); systemd.syntax(7).
// ExecStart= does not expand $ in the executable path (systemd-analyze
// verify confirms it), and Environment= never does, so $ stays as is.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "%", "%%")
	return `"` + s + `"`
}

// RenderService returns clawwarden-cycle.service running exe with "cycle".
// systemd refuses an executable path with a quote or backslash ("Executable
// name contains special characters"), so such a path is refused here.
func RenderService(exe string, env []EnvVar) ([]byte, error) {
	if err := checkValue(exe); err != nil {
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
	fmt.Fprintf(&b, "ExecStart=%s cycle\n", systemdQuote(exe))
	for _, e := range env {
		if err := checkValue(e.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote(e.Name+"="+e.Value))
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
	if err := checkValue(exe); err != nil {
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
			if err := checkValue(e.Value); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Name, err)
			}
			m[e.Name] = e.Value
		}
		doc["EnvironmentVariables"] = m
	}
	return plist.MarshalIndent(doc, plist.XMLFormat, "  ")
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

// shQuote quotes s for /bin/sh in single quotes, and escapes % which cron
// would turn into a newline (crontab(5)).
func shQuote(s string) string {
	s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	return strings.ReplaceAll(s, "%", `\%`)
}

// RenderCronLine returns the crontab line (without newline) for spec.
func RenderCronLine(spec, exe string, env []EnvVar) (string, error) {
	if err := checkValue(exe); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(spec)
	for _, e := range env {
		if err := checkValue(e.Value); err != nil {
			return "", fmt.Errorf("%s: %w", e.Name, err)
		}
		b.WriteString(" " + e.Name + "=" + shQuote(e.Value))
	}
	b.WriteString(" " + shQuote(exe) + " cycle >/dev/null 2>&1 " + CronMarker)
	return b.String(), nil
}

// isOurs reports whether a crontab line is the one install writes.
func isOurs(line string) bool {
	return strings.HasSuffix(strings.TrimRight(line, " \t\r"), CronMarker)
}

// SetCronLine returns crontab with every clawwarden line replaced by line
// (or removed when line is empty); other lines are kept exactly. changed
// reports whether the result differs.
func SetCronLine(crontab, line string) (out string, changed bool) {
	var b strings.Builder
	placed := false
	rest := crontab
	for rest != "" {
		l, tail, found := strings.Cut(rest, "\n")
		rest = tail
		if isOurs(l) {
			if line != "" && !placed {
				b.WriteString(line + "\n")
				placed = true
			}
			continue
		}
		b.WriteString(l)
		if found {
			b.WriteString("\n")
		}
	}
	out = b.String()
	if line != "" && !placed {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += line + "\n"
	}
	return out, out != crontab
}

// CronLineIn returns the clawwarden line of a crontab, if any.
func CronLineIn(crontab string) (string, bool) {
	for _, l := range strings.Split(crontab, "\n") {
		if isOurs(l) {
			return l, true
		}
	}
	return "", false
}

// cronField is the set of values one cron field allows.
type cronField struct {
	set [61]bool
	all bool
}

func parseCronField(s string, lo, hi int) (cronField, error) {
	var f cronField
	f.all = s == "*"
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return f, fmt.Errorf("cron field %q: bad step", s)
			}
			step = n
		}
		a, b := lo, hi
		if rng != "*" {
			x, y, isRange := strings.Cut(rng, "-")
			var err error
			if a, err = strconv.Atoi(x); err != nil {
				return f, fmt.Errorf("cron field %q: %w", s, err)
			}
			b = a
			if isRange {
				if b, err = strconv.Atoi(y); err != nil {
					return f, fmt.Errorf("cron field %q: %w", s, err)
				}
			} else if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return f, fmt.Errorf("cron field %q: out of range %d-%d", s, lo, hi)
		}
		for v := a; v <= b; v += step {
			f.set[v] = true
		}
	}
	return f, nil
}

// NextCron returns the first time strictly after now, in now's location,
// that the five-field cron spec matches (numbers, *, ranges, lists and
// steps; no names). Day of month and day of week combine as in cron: when
// both are restricted, either may match.
func NextCron(spec string, now time.Time) (time.Time, error) {
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return time.Time{}, fmt.Errorf("cron spec %q: want 5 fields", spec)
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	var f [5]cronField
	for i, s := range fields {
		var err error
		if f[i], err = parseCronField(s, bounds[i][0], bounds[i][1]); err != nil {
			return time.Time{}, err
		}
	}
	if f[4].set[7] {
		f[4].set[0] = true
	}
	t := now.Truncate(time.Minute).Add(time.Minute)
	if t.Before(now) || t.Equal(now) {
		t = t.Add(time.Minute)
	}
	end := now.AddDate(5, 0, 0)
	for t.Before(end) {
		if !f[3].set[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
			continue
		}
		dom, dow := f[2].set[t.Day()], f[4].set[int(t.Weekday())]
		dayOK := dom && dow
		if !f[2].all && !f[4].all {
			dayOK = dom || dow
		}
		if !dayOK {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !f[1].set[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
			continue
		}
		if !f[0].set[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cron spec %q: never matches", spec)
}
