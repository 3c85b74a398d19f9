package hook

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/quote"
)

// Service is the service manager that runs the OpenClaw gateway:
// `systemctl --user` on Linux, launchd on macOS. It is an interface because
// CI containers have no user bus and no launchd; every call is best effort.
type Service interface {
	// Reload makes the manager re-read unit files (systemctl --user
	// daemon-reload); a no-op where there is no such step.
	Reload(ctx context.Context) error
	// StartedAt returns when the running gateway started. ok is false when
	// the gateway is not running; err is set when it cannot be told.
	StartedAt(ctx context.Context) (t time.Time, ok bool, err error)
	// RestartCommand is the command a person runs so the gateway starts
	// again with the changed service definition.
	RestartCommand() string
}

// serviceTimeout bounds every systemctl, launchctl and ps call.
const serviceTimeout = 15 * time.Second

// runTool runs a service manager's command with r (nil: the real one) and
// returns its standard output.
func runTool(ctx context.Context, r command.Runner, name string, args ...string) ([]byte, error) {
	out, err := command.Or(r).Run(ctx, command.Cmd{Name: name, Args: args, Timeout: serviceTimeout})
	return out.Stdout, err
}

// Systemctl manages the gateway's systemd user unit with `systemctl --user`.
type Systemctl struct {
	Unit   string         // e.g. openclaw-gateway.service
	Runner command.Runner // nil runs the real systemctl
}

// Reload implements [Service]: systemctl --user daemon-reload.
func (s Systemctl) Reload(ctx context.Context) error {
	_, err := runTool(ctx, s.Runner, "systemctl", "--user", "daemon-reload")
	return err
}

// StartedAt implements [Service] with the unit's ActiveState and
// ActiveEnterTimestamp.
func (s Systemctl) StartedAt(ctx context.Context) (time.Time, bool, error) {
	out, err := runTool(ctx, s.Runner, "systemctl", "--user", "show", "--timestamp=unix", "-p", "ActiveState", "-p", "ActiveEnterTimestamp", "--", s.Unit)
	if err != nil {
		return time.Time{}, false, err
	}
	return parseSystemctlShow(string(out))
}

// parseSystemctlShow reads `systemctl show -p ActiveState -p
// ActiveEnterTimestamp` output, with unix (@seconds) or the default
// timestamp format.
func parseSystemctlShow(out string) (time.Time, bool, error) {
	props := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			props[k] = v
		}
	}
	state, ok := props["ActiveState"]
	if !ok {
		return time.Time{}, false, errors.New("systemctl show printed no ActiveState")
	}
	if state != "active" && state != "reloading" {
		return time.Time{}, false, nil
	}
	ts := strings.TrimSpace(props["ActiveEnterTimestamp"])
	if ts == "" {
		return time.Time{}, false, errors.New("systemctl show printed no ActiveEnterTimestamp")
	}
	if sec, ok := strings.CutPrefix(ts, "@"); ok {
		n, err := strconv.ParseInt(sec, 10, 64)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("ActiveEnterTimestamp %q: %w", ts, err)
		}
		return time.Unix(n, 0), true, nil
	}
	// "Tue 2026-11-25 08:44:00 UTC"
	if t, err := time.Parse("Mon 2006-01-02 15:04:05 MST", ts); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("cannot parse ActiveEnterTimestamp %q", ts)
}

// RestartCommand implements [Service].
func (s Systemctl) RestartCommand() string {
	return "systemctl --user restart " + s.Unit
}

// Launchctl inspects the gateway's LaunchAgent with launchctl and ps.
type Launchctl struct {
	Label  string // e.g. ai.openclaw.gateway
	UID    int
	Plist  string         // the LaunchAgent plist
	Runner command.Runner // nil runs the real launchctl and ps
}

// Reload implements [Service]; launchd reads a plist only when the job is
// loaded, so there is nothing to do until the restart.
func (l Launchctl) Reload(context.Context) error { return nil }

var launchctlPID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*pid = (\d+)\s*$`) })

// StartedAt implements [Service]: the pid from `launchctl print`, then its
// start time from `ps -o lstart=`.
func (l Launchctl) StartedAt(ctx context.Context) (time.Time, bool, error) {
	out, err := runTool(ctx, l.Runner, "launchctl", "print", l.target())
	if err != nil {
		return time.Time{}, false, err
	}
	m := launchctlPID().FindSubmatch(out)
	if m == nil {
		return time.Time{}, false, nil
	}
	ps, err := runTool(ctx, l.Runner, "ps", "-o", "lstart=", "-p", string(m[1]))
	if err != nil {
		return time.Time{}, false, err
	}
	t, err := parseLstart(string(ps))
	if err != nil {
		return time.Time{}, false, err
	}
	return t, true, nil
}

// parseLstart reads the start time `ps -o lstart=` prints, in local time
// ("Tue Nov 25 08:44:00 2026").
func parseLstart(s string) (time.Time, error) {
	f := strings.Join(strings.Fields(s), " ")
	t, err := time.ParseInLocation("Mon Jan 2 15:04:05 2006", f, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot parse process start time %q", f)
	}
	return t, nil
}

func (l Launchctl) target() string { return "gui/" + strconv.Itoa(l.UID) + "/" + l.Label }

// RestartCommand implements [Service]: launchd re-reads the plist only when
// the job is loaded again, so `launchctl kickstart` is not enough.
func (l Launchctl) RestartCommand() string {
	return fmt.Sprintf("launchctl bootout %s && launchctl bootstrap gui/%d %s", l.target(), l.UID, quote.Word(l.Plist))
}
