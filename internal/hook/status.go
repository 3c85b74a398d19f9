package hook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// States of a [LayerStatus].
const (
	StateOK            = "ok"
	StateMissing       = "missing"        // not in place
	StateStale         = "stale"          // in place but pointing elsewhere, or not yet picked up
	StatePartial       = "partial"        // in place, but some agent overrides it
	StateOverridden    = "overridden"     // in place, but something later replaces it
	StateUnknown       = "unknown"        // cannot be told
	StateNotApplicable = "not_applicable" // this layer does not exist here
)

// LayerStatus is the state of one layer of the hook.
type LayerStatus struct {
	Layer  string `json:"layer"`
	State  string `json:"state"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Status is the state of the whole hook. It is effective when both shim
// symlinks (sudo and sudoedit) are in place, either pathPrepend puts
// their directory first for every agent or the service layer does and the
// gateway was restarted since, and no alias or shell function named sudo or
// sudoedit reaches the agent's exec shell (it would decide what "sudo" runs
// before PATH). The plugin layer is reported but does not decide it.
type Status struct {
	Effective    bool          `json:"effective"`
	Binary       string        `json:"binary"`
	Shim         string        `json:"shim"`          // the sudo shim
	SudoeditShim string        `json:"sudoedit_shim"` // the sudoedit shim
	BinDir       string        `json:"bin_dir"`
	StateFile    string        `json:"state_file"`
	Installed    bool          `json:"installed"` // the state file records an install
	InstalledAt  *time.Time    `json:"installed_at,omitempty"`
	Layers       []LayerStatus `json:"layers"`
}

// Layer returns the status of the named layer.
func (s *Status) Layer(name string) (LayerStatus, bool) {
	for _, l := range s.Layers {
		if l.Layer == name {
			return l, true
		}
	}
	return LayerStatus{}, false
}

// Status inspects every layer. Only an unsafe or corrupt state file is an
// error; everything else is reported in the layers.
func (h *Hook) Status(ctx context.Context) (*Status, error) {
	st, found, err := loadState(h.StatePath())
	if err != nil {
		return nil, err
	}
	s := &Status{Binary: h.Binary, Shim: h.Paths.Shim(), SudoeditShim: h.Paths.SudoeditShim(), BinDir: h.Paths.BinDir, StateFile: h.StatePath(), Installed: found && !st.empty()}
	if s.Installed {
		t := st.InstalledAt
		s.InstalledAt = &t
	}
	links := h.shimLinks(st)
	shim := h.shimStatus(links[0], st)
	sudoedit := h.shimStatus(links[1], st)
	prepend := h.prependStatus(ctx)
	service, writtenAt := h.serviceStatus(st)
	restart := h.restartStatus(ctx, service, writtenAt)
	aliases := h.shellAliasStatus(ctx)
	plugin := h.pluginStatus(ctx)
	s.Layers = []LayerStatus{shim, sudoedit, prepend, service, restart, aliases, plugin}
	s.Effective = shim.State == StateOK && sudoedit.State == StateOK &&
		(prepend.State == StateOK || (service.State == StateOK && restart.State == StateOK)) &&
		aliases.State != StateOverridden
	return s, nil
}

// shimStatus reports one of the shim's symlinks.
func (h *Hook) shimStatus(link shimLink, st *State) LayerStatus {
	path := link.path
	l := LayerStatus{Layer: link.layer}
	s, err := inspectShim(path)
	switch {
	case err != nil:
		l.State, l.Detail = StateUnknown, err.Error()
	case !s.exists:
		l.State, l.Detail, l.Fix = StateMissing, path+" does not exist", "clawwarden hook install"
		if link.layer != LayerShim {
			l.Detail += fmt.Sprintf(", so the agent's %s runs the real one, past the guard", link.name)
		}
		if st.Shim != nil && *link.rec == nil {
			l.Detail += fmt.Sprintf("; the recorded install made only %s, as clawwarden did before the sudoedit shim: 'clawwarden hook install' adds it", st.Shim.Path)
		}
	case !s.symlink:
		l.State, l.Detail, l.Fix = StateStale, path+" "+link.notLink("is not a symlink to clawwarden"), "move it aside and run 'clawwarden hook install'"
	default:
		target := s.target
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		switch {
		case resolved(target) == resolved(h.Binary):
			l.State, l.Detail = StateOK, fmt.Sprintf("%s is a symlink to %s", path, s.target)
		default:
			l.State, l.Detail, l.Fix = StateStale, fmt.Sprintf("%s is a symlink to %s, not to this binary (%s)", path, s.target, h.Binary), "clawwarden hook install"
			if _, err := os.Stat(target); err != nil {
				l.Detail += "; the target does not exist"
			}
		}
	}
	return l
}

func (h *Hook) prependStatus(ctx context.Context) LayerStatus {
	bin, home := h.Paths.BinDir, h.Paths.Home
	l := LayerStatus{Layer: LayerPathPrepend}
	if h.Config == nil {
		l.State, l.Detail, l.Fix = StateUnknown, "cannot read "+PrependKey+": "+h.configUnavailable(), "put openclaw on PATH, then: openclaw config get "+PrependKey
		return l
	}
	tv, _, err := h.readTools(ctx, "")
	if err != nil {
		l.State, l.Detail = StateUnknown, "cannot read "+PrependKey+": "+err.Error()
		return l
	}
	if !tv.prependSet || !IsFirst(tv.prepend, bin, home) {
		l.State, l.Fix = StateMissing, "clawwarden hook install"
		if tv.prependSet {
			l.Detail = fmt.Sprintf("%s is %s: %s is not first", PrependKey, tv.prependRaw, bin)
		} else {
			l.Detail = PrependKey + " is unset"
		}
		return l
	}
	l.State, l.Detail = StateOK, fmt.Sprintf("%s is %s", PrependKey, tv.prependRaw)
	agents, ok, err := h.Config.Get(ctx, "agents.entries")
	if err != nil {
		l.State, l.Detail = StateUnknown, l.Detail+"; cannot read per-agent settings: "+err.Error()
		return l
	}
	if !ok {
		return l
	}
	var ids []string
	for _, o := range agentOverrides(agents, bin, home) {
		ids = append(ids, o.id)
	}
	if len(ids) > 0 {
		l.State = StatePartial
		l.Detail += fmt.Sprintf("; but agent(s) %s set their own tools.exec.pathPrepend without %s first", strings.Join(ids, ", "), bin)
		l.Fix = "clawwarden hook install"
	}
	return l
}

// serviceStatus reports the systemd or launchd layer, and when clawwarden
// last changed it (zero if unknown).
func (h *Hook) serviceStatus(st *State) (LayerStatus, time.Time) {
	switch h.GOOS {
	case "linux":
		return h.dropInStatus(st)
	case "darwin":
		return h.plistStatus(st)
	}
	return LayerStatus{Layer: "service", State: StateNotApplicable, Detail: "no service layer on " + h.GOOS}, time.Time{}
}

func (h *Hook) dropInStatus(st *State) (LayerStatus, time.Time) {
	l := LayerStatus{Layer: LayerSystemd}
	unit, err := SystemdUnit(h.Getenv)
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	unitFile := h.systemdUnitFile(unit)
	if _, err := os.Stat(unitFile); err != nil {
		l.State, l.Detail = StateNotApplicable, "no systemd user unit "+unitFile
		return l, time.Time{}
	}
	file := filepath.Join(unitFile+".d", DropInName)
	fi, err := safefile.Check(file)
	if errors.Is(err, fs.ErrNotExist) {
		l.State, l.Detail, l.Fix = StateMissing, "no drop-in "+file, "clawwarden hook install"
		return l, time.Time{}
	}
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	data, err := safefile.ReadFile(file)
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	p, set := dropInPATH(string(data), h.Paths.Home)
	if !set || !firstInPATH(p, h.Paths.BinDir) {
		l.State, l.Detail, l.Fix = StateStale, fmt.Sprintf("%s does not put %s first on PATH", file, h.Paths.BinDir), "clawwarden hook install"
		return l, time.Time{}
	}
	l.State, l.Detail = StateOK, fmt.Sprintf("%s sets PATH=%s", file, p)
	at := fi.ModTime()
	if st.DropIn != nil && st.DropIn.Path == file {
		at = st.DropIn.WrittenAt
	}
	return l, at
}

func (h *Hook) plistStatus(st *State) (LayerStatus, time.Time) {
	l := LayerStatus{Layer: LayerLaunchd}
	label, err := h.launchdLabel()
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	file := plistPathFor(h.Paths.Home, label)
	fi, err := safefile.Check(file)
	if errors.Is(err, fs.ErrNotExist) {
		l.State, l.Detail = StateNotApplicable, "no LaunchAgent "+file
		return l, time.Time{}
	}
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	data, err := safefile.ReadFile(file)
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l, time.Time{}
	}
	p, set, envFile, err := PlistPATH(data)
	if err != nil {
		l.State, l.Detail = StateUnknown, fmt.Sprintf("%s: %v", file, err)
		return l, time.Time{}
	}
	if !set || !firstInPATH(p, h.Paths.BinDir) {
		l.State, l.Detail, l.Fix = StateMissing, fmt.Sprintf("%s does not put %s first on PATH", file, h.Paths.BinDir), "clawwarden hook install"
		return l, time.Time{}
	}
	l.State, l.Detail = StateOK, fmt.Sprintf("%s sets PATH=%s", file, p)
	if envFile != "" {
		if ep, eset, err := envFilePATH(envFile); err == nil && eset && !firstInPATH(ep, h.Paths.BinDir) {
			l.State = StateOverridden
			l.Detail += fmt.Sprintf("; but the gateway sources %s, whose PATH=%s replaces it", envFile, ep)
		}
	}
	at := fi.ModTime()
	if st.Plist != nil && st.Plist.Path == file {
		at = st.Plist.WrittenAt
	}
	return l, at
}

// restartStatus tells whether the gateway started after the service layer
// was written, so that it runs with the new PATH.
func (h *Hook) restartStatus(ctx context.Context, service LayerStatus, writtenAt time.Time) LayerStatus {
	l := LayerStatus{Layer: LayerRestart}
	if service.State != StateOK || writtenAt.IsZero() {
		l.State, l.Detail = StateNotApplicable, "no service change to pick up"
		return l
	}
	if h.Service == nil {
		l.State, l.Detail = StateUnknown, "unknown: no service manager to ask"
		return l
	}
	l.Fix = h.Service.RestartCommand()
	started, running, err := h.Service.StartedAt(ctx)
	switch {
	case err != nil:
		l.State, l.Detail = StateUnknown, "unknown: "+err.Error()
	case !running:
		l.State, l.Detail = StateStale, "the gateway service is not running"
	case started.Before(writtenAt.Truncate(time.Second)):
		l.State, l.Detail = StateStale, fmt.Sprintf("the gateway started at %s, before the change at %s: restart it", started.Local().Format(time.RFC3339), writtenAt.Local().Format(time.RFC3339))
	default:
		l.State, l.Detail, l.Fix = StateOK, fmt.Sprintf("the gateway started at %s, after the change at %s", started.Local().Format(time.RFC3339), writtenAt.Local().Format(time.RFC3339)), ""
	}
	return l
}
