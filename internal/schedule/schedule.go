package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/command"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/unitfile"
)

// StateFile is the record of what install wrote, in the security directory.
const StateFile = "schedule-state.json"

// Backends.
const (
	Systemd = "systemd"
	Launchd = "launchd"
	Cron    = "cron"
)

// ErrNoBackend means neither a systemd user manager, launchd nor crontab is
// available.
var ErrNoBackend = errors.New("no scheduler available: no systemd user manager, launchd or crontab command")

// Config is what install, remove and status need.
type Config struct {
	Home        string // the user's home directory
	SecurityDir string // where StateFile lives
	Exe         string // absolute path of the clawwarden binary
	User        string // user name, for the cron minute
	UID         int    // for launchctl's gui/<uid> domain
	GOOS        string
	Env         []EnvVar
	StateDir    string         // OpenClaw's state directory; the cron line sets OPENCLAW_STATE_DIR to it
	Runner      command.Runner // runs systemctl, launchctl and crontab; nil runs the real ones
	// CronDaemon returns the pid of the running cron daemon, or 0; nil
	// looks in /proc.
	CronDaemon func() int
	LookPath   func(string) (string, error)
	Now        func() time.Time
}

// State is the content of [StateFile].
type State struct {
	Backend     string    `json:"backend"`
	Paths       []string  `json:"paths"`
	Every       string    `json:"every"`
	CronLine    string    `json:"cron_line,omitempty"`
	InstalledAt time.Time `json:"installed_at"`
}

// run runs name with args through c.Runner and returns its standard
// output.
func (c Config) run(name string, args ...string) ([]byte, error) {
	out, err := command.Or(c.Runner).Run(context.Background(), command.Cmd{Name: name, Args: args})
	return out.Stdout, err
}

func (c Config) statePath() string { return filepath.Join(c.SecurityDir, StateFile) }

func (c Config) unitDir() string { return filepath.Join(c.Home, ".config", "systemd", "user") }

func (c Config) plistPath() string {
	return filepath.Join(c.Home, "Library", "LaunchAgents", Label+".plist")
}

// Detect picks the backend for this host.
func Detect(c Config) (string, error) {
	if c.GOOS == "darwin" {
		if _, err := c.LookPath("launchctl"); err == nil {
			return Launchd, nil
		}
	}
	if c.GOOS == "linux" {
		if _, err := c.LookPath("systemctl"); err == nil {
			if _, err := c.run("systemctl", "--user", "show-environment"); err == nil {
				return Systemd, nil
			}
		}
	}
	if _, err := c.LookPath("crontab"); err == nil {
		return Cron, nil
	}
	return "", ErrNoBackend
}

// ReadState returns the recorded installation, or nil when there is none.
func ReadState(c Config) (*State, error) {
	data, err := safefile.ReadFile(c.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", c.statePath(), safefile.ErrInvalid, err)
	}
	return &s, nil
}

// Result says what install did.
type Result struct {
	State State
	// Rounded is the interval cron really uses when it differs from the
	// requested one; zero otherwise.
	Rounded time.Duration
}

// Install schedules the cycle every interval with the detected backend,
// replacing an earlier installation. Running it twice gives the same files
// and one crontab line.
func Install(c Config, every time.Duration) (Result, error) {
	backend, err := Detect(c)
	if err != nil {
		return Result{}, err
	}
	if old, err := ReadState(c); err != nil {
		return Result{}, err
	} else if old != nil && old.Backend != backend {
		if err := removeState(c, old); err != nil {
			return Result{}, err
		}
	}
	if err := safefile.EnsureDir(c.SecurityDir); err != nil {
		return Result{}, err
	}
	res := Result{State: State{Backend: backend, Every: every.String(), InstalledAt: c.Now().UTC()}}
	switch backend {
	case Systemd:
		err = installSystemd(c, every, &res.State)
	case Launchd:
		err = installLaunchd(c, every, &res.State)
	case Cron:
		err = installCron(c, every, &res)
	}
	if err != nil {
		return Result{}, err
	}
	data, err := json.MarshalIndent(res.State, "", "  ")
	if err != nil {
		return Result{}, err
	}
	return res, safefile.WriteFile(c.statePath(), append(data, '\n'))
}

func installSystemd(c Config, every time.Duration, s *State) error {
	svc, err := RenderService(c.Exe, c.Env)
	if err != nil {
		return err
	}
	dir := c.unitDir()
	if err := safefile.EnsureDir(dir); err != nil {
		return err
	}
	sp, tp := filepath.Join(dir, ServiceName), filepath.Join(dir, TimerName)
	if err := safefile.WriteFile(sp, svc); err != nil {
		return err
	}
	if err := safefile.WriteFile(tp, RenderTimer(every)); err != nil {
		return err
	}
	s.Paths = []string{sp, tp}
	if _, err := c.run("systemctl", "--user", "daemon-reload"); err != nil {
		return err
	}
	_, err = c.run("systemctl", "--user", "enable", "--now", TimerName)
	return err
}

func installLaunchd(c Config, every time.Duration, s *State) error {
	data, err := RenderPlist(c.Exe, every, c.Env)
	if err != nil {
		return err
	}
	p := c.plistPath()
	if err := safefile.EnsureDir(filepath.Dir(p)); err != nil {
		return err
	}
	if err := safefile.WriteFile(p, data); err != nil {
		return err
	}
	s.Paths = []string{p}
	domain := "gui/" + strconv.Itoa(c.UID)
	c.run("launchctl", "bootout", domain+"/"+Label) // not loaded yet is fine
	_, err = c.run("launchctl", "bootstrap", domain, p)
	return err
}

// readCrontab returns the user's crontab, empty when there is none.
func readCrontab(c Config) (string, error) {
	out, err := c.run("crontab", "-l")
	if err != nil {
		if strings.Contains(string(out), "no crontab") || strings.Contains(err.Error(), "no crontab") {
			return "", nil
		}
		return "", err
	}
	return string(out), nil
}

// writeCrontab installs content with `crontab FILE`, the file being a
// private temporary file in the security directory.
func writeCrontab(c Config, content string) error {
	if err := safefile.EnsureDir(c.SecurityDir); err != nil {
		return err
	}
	tmp := filepath.Join(c.SecurityDir, ".crontab.tmp")
	if err := safefile.WriteFile(tmp, []byte(content)); err != nil {
		return err
	}
	defer os.Remove(tmp)
	_, err := c.run("crontab", tmp)
	return err
}

func installCron(c Config, every time.Duration, r *Result) error {
	spec, real := CronSpec(every, c.User)
	if real != every {
		r.Rounded = real
		r.State.Every = real.String()
	}
	line, err := RenderCronLine(spec, c.Exe, c.cronEnv())
	if err != nil {
		return err
	}
	cur, err := readCrontab(c)
	if err != nil {
		return err
	}
	r.State.Paths = []string{"crontab"}
	r.State.CronLine = line
	out, changed := unitfile.SetCronLine(cur, CronMarker, line)
	if !changed {
		return nil
	}
	return writeCrontab(c, out)
}

// Remove undoes what the state file records; with no state it does nothing
// and returns nil state.
func Remove(c Config) (*State, error) {
	s, err := ReadState(c)
	if err != nil || s == nil {
		return nil, err
	}
	if err := removeState(c, s); err != nil {
		return nil, err
	}
	if err := os.Remove(c.statePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return s, nil
}

// removeFile deletes a file install wrote, refusing symlinks and foreign
// files; a missing file is fine.
func removeFile(p string) error {
	if _, err := safefile.Check(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.Remove(p)
}

func removeState(c Config, s *State) error {
	switch s.Backend {
	case Systemd:
		c.run("systemctl", "--user", "disable", "--now", TimerName) // may already be gone
		for _, p := range s.Paths {
			if err := removeFile(p); err != nil {
				return err
			}
		}
		c.run("systemctl", "--user", "daemon-reload")
	case Launchd:
		c.run("launchctl", "bootout", "gui/"+strconv.Itoa(c.UID)+"/"+Label)
		for _, p := range s.Paths {
			if err := removeFile(p); err != nil {
				return err
			}
		}
	case Cron:
		cur, err := readCrontab(c)
		if err != nil {
			return err
		}
		out, changed := unitfile.SetCronLine(cur, CronMarker, "")
		if changed {
			return writeCrontab(c, out)
		}
	default:
		return fmt.Errorf("%s: %w: unknown backend %q", c.statePath(), safefile.ErrInvalid, s.Backend)
	}
	return nil
}

// Status is what `schedule status` reports.
type Status struct {
	Installed bool     `json:"installed"`
	Backend   string   `json:"backend"`
	Every     string   `json:"every"`
	NextRun   string   `json:"next_run"`
	LastRun   string   `json:"last_run"`
	Paths     []string `json:"paths"`
	Detail    string   `json:"detail"`
	// Running says whether the scheduler that runs the job is alive (the
	// cron daemon, the systemd user manager, launchd); a job installed
	// where nothing runs it is not in effect.
	Running bool `json:"running"`
}

// InEffect reports whether the job is installed and something runs it.
func (s Status) InEffect() bool { return s.Installed && s.Running }

// GetStatus reports the recorded installation and asks the backend when it
// runs next.
func GetStatus(c Config) (Status, error) {
	s, err := ReadState(c)
	if err != nil {
		return Status{}, err
	}
	if s == nil {
		return Status{Paths: []string{}, Detail: "not installed: run 'clawwarden schedule install'"}, nil
	}
	st := Status{Installed: true, Backend: s.Backend, Every: s.Every, Paths: s.Paths}
	if s.Backend != Cron {
		for _, p := range s.Paths {
			if _, err := safefile.Check(p); err != nil {
				st.Installed = false
				st.Detail = fmt.Sprintf("%v: run 'clawwarden schedule install' again", err)
				return st, nil
			}
		}
	}
	switch s.Backend {
	case Systemd:
		out, err := c.run("systemctl", "--user", "show", TimerName, "-p", "NextElapseUSecRealtime", "-p", "LastTriggerUSec")
		if err != nil {
			st.Detail = err.Error()
			break
		}
		for _, l := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
			if v == "n/a" {
				v = ""
			}
			switch k {
			case "NextElapseUSecRealtime":
				st.NextRun = v
			case "LastTriggerUSec":
				st.LastRun = v
			}
		}
		st.Running = true
		st.Detail = "systemd user timer " + TimerName
	case Launchd:
		if _, err := c.run("launchctl", "print", "gui/"+strconv.Itoa(c.UID)+"/"+Label); err != nil {
			st.Detail = "not loaded in launchd: run 'clawwarden schedule install' again"
		} else {
			st.Running = true
			st.Detail = "loaded in launchd as " + Label + " (StartInterval " + s.Every + ")"
		}
	case Cron:
		cur, err := readCrontab(c)
		if err != nil {
			st.Detail = err.Error()
			break
		}
		line, ok := unitfile.CronLine(cur, CronMarker)
		if !ok {
			st.Installed = false
			st.Detail = "the crontab line is missing: run 'clawwarden schedule install' again"
			break
		}
		f := strings.Fields(line)
		if len(f) >= 5 {
			if next, err := unitfile.NextCron(strings.Join(f[:5], " "), c.Now()); err == nil {
				st.NextRun = next.Format(time.RFC3339)
			}
		}
		st.Detail = "crontab line: " + line
		daemon := c.CronDaemon
		if daemon == nil {
			daemon = func() int { return CronDaemon("/proc") }
		}
		if pid := daemon(); pid > 0 {
			st.Running = true
			st.Detail += fmt.Sprintf("; cron daemon running (pid %d)", pid)
		} else {
			st.NextRun = ""
			st.Detail += "; no cron daemon is running, so the job never runs: start it (systemctl enable --now cron, or service cron start)"
		}
	}
	return st, nil
}

// cronEnv is the environment the cron line sets: cron starts jobs with the
// passwd home and nothing of the installing shell, so the job is told
// HOME and OPENCLAW_STATE_DIR (the ones in effect at install), then the
// other passed variables.
func (c Config) cronEnv() []EnvVar {
	env := []EnvVar{{Name: "HOME", Value: c.Home}}
	if c.StateDir != "" {
		env = append(env, EnvVar{Name: "OPENCLAW_STATE_DIR", Value: c.StateDir})
	}
	for _, e := range c.Env {
		if e.Name != "HOME" && (e.Name != "OPENCLAW_STATE_DIR" || c.StateDir == "") {
			env = append(env, e)
		}
	}
	return env
}
