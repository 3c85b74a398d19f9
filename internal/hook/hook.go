// Package hook installs, removes and inspects clawwarden's runtime hook for
// OpenClaw: the opt-in shims ~/.openclaw/bin/sudo and ~/.openclaw/bin/sudoedit
// and the settings that put their directory first on the PATH of the agent's
// exec tool, so that a "sudo" or "sudoedit" the agent runs goes through
// clawwarden's approval-first guard.
//
// # Layers
//
//   - shim: ~/.openclaw/bin/sudo, a symlink to the running clawwarden binary
//     (symlinks resolved). Invoked as "sudo", clawwarden acts as the shim.
//   - sudoedit_shim: ~/.openclaw/bin/sudoedit, a second symlink to the same
//     binary, made and checked like the sudo one. Invoked as "sudoedit",
//     clawwarden acts as the shim too; without it the agent's sudoedit (with
//     an editor of its choosing in SUDO_EDITOR) would reach the real
//     sudoedit past the guard.
//   - pathPrepend: OpenClaw's tools.exec.pathPrepend, the list of directories
//     its exec tool puts first on PATH (OpenClaw's docs/tools/exec.md). It is
//     read and written only through the openclaw command line (`openclaw
//     config get/set/patch`, docs/cli/config.md), so OpenClaw validates and
//     writes its own openclaw.json. An agent's own
//     agents.entries.ID.tools.exec.pathPrepend replaces the global list, so
//     those that exist are changed too. OpenClaw applies the change without a
//     gateway restart.
//   - service: for gateways whose PATH comes from the service manager (older
//     OpenClaw without pathPrepend): on Linux a systemd user drop-in
//     zz-clawwarden-path.conf for openclaw-gateway.service; on macOS the
//     EnvironmentVariables PATH of the LaunchAgent ai.openclaw.gateway.plist,
//     after a confirmation (OPENCLAW_SKIP_PLIST_CONFIRM=1 skips it) and with
//     a backup. The gateway must be restarted to pick these up. The systemd
//     drop-in also sets OPENCLAW_EXEC_SHELL_SNAPSHOT=0 (see shell_aliases).
//   - shell_aliases (status only): OpenClaw's exec tool sources a snapshot of
//     the account's aliases and functions ($OPENCLAW_STATE_DIR/cache/
//     shell-snapshots/*.sh, from ~/.bashrc or ~/.zshrc) before every command,
//     so an alias or function named sudo decides what the agent's "sudo"
//     runs before PATH does. Status reads the snapshots and the startup files
//     ([FindSudoOverrides]); one found makes the hook not effective.
//   - plugin: clawwarden's OpenClaw plugin (the embedded folder plugin/),
//     written to ~/.openclaw/security/openclaw-plugin and linked with
//     `openclaw plugins install --link`. Its resolve_exec_env hook gives
//     every exec the session key and a reason; its before_tool_call hook
//     blocks exec commands that reach root around the shim. It is defence in
//     depth, reported by status but not part of "effective".
//
// # Undo
//
// Install records in ~/.openclaw/security/hook-state.json (through package
// safefile) exactly what it changed: the shim symlinks it created, the previous
// pathPrepend value as `openclaw config get` returned it (or that it was
// unset, and whether the surrounding objects existed), the drop-in's hash,
// the plist's backup and hashes. Uninstall undoes exactly those changes and
// nothing else; where a value changed again after install, it removes only
// the shim's directory and keeps the rest. A shim path that install did not
// create, or that changed since, is left in place with a hint.
//
// # Backwards compatibility
//
// The "openclaw_plugin" record is optional in the same way: a state file
// from before the plugin reads as it is, and install adds the plugin.
//
// Versions before the sudoedit shim made only ~/.openclaw/bin/sudo, and
// their state file has no "sudoedit_shim" record. Such a file is read as it
// is (the record is optional, and the state version stays 1); status then
// reports the sudoedit shim missing, and running install again adds the
// link and its record without touching the rest. An older clawwarden
// reading a newer state file ignores the record, so its uninstall leaves
// ~/.openclaw/bin/sudoedit (and the bin directory) behind.
//
// # Refusals
//
// Install refuses, with an error wrapping [safefile.ErrUnsafe], when a shim
// path (sudo or sudoedit) holds something other than a symlink to this
// binary or to the clawwarden binary it recorded for that path, or when a
// target (shim, bin directory, drop-in, plist) is a symlink or owned by
// another user. Both shim paths are checked before either is changed, so a
// refusal changes nothing.
package hook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// PrependKey is OpenClaw's config key for the exec tool's PATH prefix.
const PrependKey = "tools.exec.pathPrepend"

// Hook is one user's runtime hook: where its pieces live and the tools that
// change them. [New] fills it for the running system; tests fill it
// themselves.
type Hook struct {
	Paths  config.Paths
	Binary string // the clawwarden binary the shims point at (absolute, resolved)
	GOOS   string // chooses the service layer: linux (systemd) or darwin (launchd)
	Getenv func(string) string

	// Config reads and writes openclaw.json; nil when the openclaw command
	// is not available, ConfigErr then says why.
	Config    ConfigStore
	ConfigErr error

	// SystemShellFiles are system-wide shell rc files status reads for an
	// alias or function named sudo, besides the user's own and OpenClaw's
	// snapshots; [New] sets [DefaultSystemShellFiles].
	SystemShellFiles []string

	// Plugins links clawwarden's plugin into OpenClaw and inspects it; nil
	// when the openclaw command is not available.
	Plugins PluginManager

	// Service is the gateway's service manager; nil skips reloads and
	// restart checks.
	Service Service

	// Confirm asks a person before the LaunchAgent plist is edited; nil
	// means yes. SkipConfirm (OPENCLAW_SKIP_PLIST_CONFIRM=1) skips it.
	Confirm     func(question string) (bool, error)
	SkipConfirm bool

	Now func() time.Time

	// PluginRuntime makes Status load the plugin (`openclaw plugins inspect
	// --runtime`, tens of seconds) to check the hooks it registers, rather
	// than read OpenClaw's plugin list (seconds).
	PluginRuntime bool
}

// New returns the hook for the running binary on this system.
func New(paths config.Paths, getenv func(string) string) (*Hook, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the clawwarden binary: %w", err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the clawwarden binary: %w", err)
	}
	h := &Hook{
		Paths:       paths,
		Binary:      exe,
		GOOS:        runtime.GOOS,
		Getenv:      getenv,
		SkipConfirm: strings.TrimSpace(getenv("OPENCLAW_SKIP_PLIST_CONFIRM")) == "1",
		Now:         time.Now,

		SystemShellFiles: DefaultSystemShellFiles,
	}
	if oc, err := openclaw.FindCLI(); err == nil {
		h.Config = oc
		h.Plugins = oc
	} else {
		h.ConfigErr = err
	}
	switch h.GOOS {
	case "linux":
		if unit, err := SystemdUnit(getenv); err == nil {
			h.Service = Systemctl{Unit: unit}
		}
	case "darwin":
		if label, err := LaunchdLabel(getenv); err == nil {
			h.Service = Launchctl{Label: label, UID: os.Getuid(), Plist: plistPathFor(paths.Home, label)}
		}
	}
	return h, nil
}

// StatePath is the record of what install changed.
func (h *Hook) StatePath() string { return h.Paths.Security(StateFile) }

// Results of a [Step].
const (
	Changed   = "changed"
	Unchanged = "unchanged"
	Skipped   = "skipped"
	Failed    = "failed"
)

// Layer names used in steps and status.
const (
	LayerShim        = "shim"          // ~/.openclaw/bin/sudo
	LayerSudoedit    = "sudoedit_shim" // ~/.openclaw/bin/sudoedit
	LayerPathPrepend = "pathPrepend"
	LayerSystemd     = "systemd"
	LayerLaunchd     = "launchd"
	LayerRestart     = "gateway_restart"
	LayerPlugin      = "plugin" // clawwarden's OpenClaw plugin
)

// Step is one thing install or uninstall did, or could not do.
type Step struct {
	Layer  string `json:"layer"`
	Result string `json:"result"` // changed, unchanged, skipped or failed
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

// Report lists the steps of an install or uninstall and the commands that
// make the gateway pick up the change.
type Report struct {
	Steps     []Step   `json:"steps"`
	Restart   []string `json:"restart,omitempty"`
	StateFile string   `json:"state_file"`
}

func (r *Report) add(layer, result, detail, hint string) {
	r.Steps = append(r.Steps, Step{Layer: layer, Result: result, Detail: detail, Hint: hint})
}

// Has reports whether some step of layer has the given result.
func (r *Report) Has(layer, result string) bool {
	return slices.ContainsFunc(r.Steps, func(s Step) bool { return s.Layer == layer && s.Result == result })
}

// Error is a refusal together with the commands that resolve it.
type Error struct {
	Err   error
	Hints []string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrIncomplete is returned by Uninstall when some change could not be
// undone; the state file keeps the record of it.
var ErrIncomplete = errors.New("hook uninstall incomplete")

// refuse builds an unsafe-path refusal with hints.
func refuse(path, why string, hints ...string) error {
	return &Error{Err: fmt.Errorf("%s: %w: %s", path, safefile.ErrUnsafe, why), Hints: hints}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// prepareState makes sure the security directory exists and is trusted,
// takes the state lock and loads the state.
func (h *Hook) prepareState() (*State, *safefile.Lock, error) {
	if err := safefile.EnsureDir(h.Paths.StateDir); err != nil {
		return nil, nil, err
	}
	if err := safefile.EnsureDir(h.Paths.SecurityDir); err != nil {
		return nil, nil, err
	}
	lock, err := safefile.LockFor(h.StatePath())
	if err != nil {
		return nil, nil, err
	}
	st, _, err := loadState(h.StatePath())
	if err != nil {
		lock.Unlock()
		return nil, nil, err
	}
	return st, lock, nil
}

// Install puts the hook in place, layer by layer, and records what it
// changed. It is idempotent: what is already in place is left alone. A
// layer that cannot be changed (no openclaw command, no service unit) is
// reported as skipped or failed; a refusal stops install with an error.
func (h *Hook) Install(ctx context.Context) (*Report, error) {
	r := &Report{StateFile: h.StatePath()}
	st, lock, err := h.prepareState()
	if err != nil {
		return r, err
	}
	defer lock.Unlock()
	save := func() error {
		st.Version = stateVersion
		st.Binary = h.Binary
		st.InstalledAt = h.Now().UTC()
		return saveState(h.StatePath(), st)
	}
	if err := h.installShim(st, r); err != nil {
		if len(r.Steps) > 0 { // a link was placed before the error: keep its record
			err = errors.Join(err, save())
		}
		return r, err
	}
	if err := save(); err != nil {
		return r, err
	}
	h.installPrepend(ctx, st, r)
	if err := save(); err != nil {
		return r, err
	}
	perr := h.installPlugin(ctx, st, r)
	if err := save(); err != nil || perr != nil {
		return r, errors.Join(perr, err)
	}
	serr := h.installService(ctx, st, r)
	if err := save(); err != nil {
		return r, err
	}
	return r, serr
}

// installShim puts the shim's symlinks (sudo, then sudoedit) in place. It
// looks at both before it changes either, so that a refusal of one leaves
// the other as it was too.
func (h *Hook) installShim(st *State, r *Report) error {
	binDir := h.Paths.BinDir
	if err := checkBinary(h.Binary); err != nil {
		return err
	}
	_, err := os.Lstat(binDir)
	binDirCreated := errors.Is(err, fs.ErrNotExist)
	if err := safefile.EnsureDir(binDir); err != nil {
		return err
	}
	if st.Shim != nil {
		binDirCreated = binDirCreated || st.Shim.BinDirCreated
	}
	links := h.shimLinks(st)
	found := make([]shimState, len(links))
	for i, l := range links {
		s, err := inspectShim(l.path)
		if err != nil {
			return err
		}
		if err := h.checkShimLink(l, s); err != nil {
			return err
		}
		found[i] = s
	}
	for i, l := range links {
		// The sudo shim's record owns the bin directory; the directory
		// exists by the time the sudoedit link is made.
		if err := h.placeShimLink(l, found[i], binDirCreated && l.layer == LayerShim, r); err != nil {
			return err
		}
	}
	return nil
}

// checkShimLink refuses what is at l's path unless it is missing or a
// symlink to this binary or to the one recorded for l.
func (h *Hook) checkShimLink(l shimLink, s shimState) error {
	rec := *l.rec
	switch {
	case !s.exists:
		return nil
	case s.symlink && (s.target == h.Binary || (rec != nil && s.target == rec.Target)):
		return nil
	case s.symlink:
		return refuse(l.path, fmt.Sprintf("a symlink to %s that clawwarden did not create", s.target),
			fmt.Sprintf("if it is yours to replace, move it aside (mv %s %s.orig) and run 'clawwarden hook install' again", quote.Word(l.path), quote.Word(l.path)))
	default:
		return refuse(l.path, l.notLink("exists and is not a symlink"),
			fmt.Sprintf("move it aside (mv %s %s.orig) and run 'clawwarden hook install' again", quote.Word(l.path), quote.Word(l.path)))
	}
}

// placeShimLink creates or repoints l's symlink, which [Hook.checkShimLink]
// accepted, and records it.
func (h *Hook) placeShimLink(l shimLink, s shimState, binDirCreated bool, r *Report) error {
	rec := *l.rec
	switch {
	case !s.exists:
		if err := linkShim(l.path, h.Binary); err != nil {
			return err
		}
		*l.rec = &ShimRecord{Path: l.path, Target: h.Binary, BinDirCreated: binDirCreated}
		hint := temporaryBinaryHint(h.Binary)
		if hint != "" && slices.ContainsFunc(r.Steps, func(s Step) bool { return s.Hint == hint }) {
			hint = "" // said once for the sudo shim
		}
		r.add(l.layer, Changed, fmt.Sprintf("created %s, a symlink to %s", l.path, h.Binary), hint)
	case s.target == h.Binary:
		if rec == nil {
			*l.rec = &ShimRecord{Path: l.path, Target: h.Binary}
		}
		r.add(l.layer, Unchanged, fmt.Sprintf("%s already points at %s", l.path, h.Binary), "")
	default: // a symlink to the binary recorded before
		if err := linkShim(l.path, h.Binary); err != nil {
			return err
		}
		r.add(l.layer, Changed, fmt.Sprintf("%s now points at %s (was %s)", l.path, h.Binary, s.target), "")
		rec.Target = h.Binary
	}
	return nil
}

// systemdUnitFile is where OpenClaw writes the gateway's user unit.
func (h *Hook) systemdUnitFile(unit string) string {
	return filepath.Join(h.Paths.Home, ".config", "systemd", "user", unit)
}

func (h *Hook) installService(ctx context.Context, st *State, r *Report) error {
	switch h.GOOS {
	case "linux":
		return h.installDropIn(ctx, st, r)
	case "darwin":
		return h.installPlist(st, r)
	}
	return nil
}

func (h *Hook) installDropIn(ctx context.Context, st *State, r *Report) error {
	unit, err := SystemdUnit(h.Getenv)
	if err != nil {
		r.add(LayerSystemd, Failed, err.Error(), "fix OPENCLAW_SYSTEMD_UNIT")
		return nil
	}
	unitFile := h.systemdUnitFile(unit)
	if _, err := os.Stat(unitFile); err != nil {
		r.add(LayerSystemd, Skipped, fmt.Sprintf("no systemd user unit %s: the gateway does not run as a systemd user service here, so there is no service PATH to change", unitFile), "")
		h.snapshotsStayOn(r, "there is no systemd user unit to set it in")
		return nil
	}
	base, set, err := unitPATH(unitFile, h.Paths.Home)
	if err != nil {
		r.add(LayerSystemd, Failed, "cannot read the unit's PATH: "+err.Error(), "")
		return nil
	}
	if !set {
		base = systemdDefaultPATH
	}
	pathValue := prependPATH(base, h.Paths.BinDir)
	content, err := RenderDropIn(pathValue)
	if err != nil {
		r.add(LayerSystemd, Failed, "cannot write the PATH into a drop-in: "+err.Error(), "")
		return nil
	}
	dir := unitFile + ".d"
	file := filepath.Join(dir, DropInName)
	_, err = os.Lstat(dir)
	dirCreated := errors.Is(err, fs.ErrNotExist)
	if err := safefile.EnsureDir(dir); err != nil {
		return err
	}
	old, err := safefile.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case bytes.Equal(old, content):
		if st.DropIn == nil {
			at := h.Now().UTC()
			if fi, err := os.Stat(file); err == nil {
				at = fi.ModTime().UTC()
			}
			st.DropIn = &DropInRecord{Unit: unit, Path: file, SHA256: digest(content), WrittenAt: at}
		}
		r.add(LayerSystemd, Unchanged, fmt.Sprintf("drop-in %s already sets PATH=%s and %s=0", file, pathValue, SnapshotEnv), "")
		return nil
	case !bytes.HasPrefix(old, []byte(dropInMarker)):
		return refuse(file, "exists and was not written by clawwarden", "move it aside and run 'clawwarden hook install' again")
	case st.DropIn == nil || digest(old) != st.DropIn.SHA256:
		return &Error{Err: fmt.Errorf("%s: %w: changed since clawwarden wrote it", file, safefile.ErrUnsafe),
			Hints: []string{"compare it with what clawwarden would write, remove it, and run 'clawwarden hook install' again"}}
	}
	if err := safefile.WriteFile(file, content); err != nil {
		return err
	}
	if st.DropIn != nil {
		dirCreated = dirCreated || st.DropIn.DirCreated
	}
	st.DropIn = &DropInRecord{Unit: unit, Path: file, SHA256: digest(content), DirCreated: dirCreated, WrittenAt: h.Now().UTC()}
	r.add(LayerSystemd, Changed, fmt.Sprintf("wrote drop-in %s: PATH=%s, %s=0 (OpenClaw's exec shell snapshots off)", file, pathValue, SnapshotEnv), "")
	if h.Service != nil {
		if err := h.Service.Reload(ctx); err != nil {
			r.add(LayerSystemd, Skipped, "could not reload the user manager: "+err.Error(), "run it in the gateway user's session: systemctl --user daemon-reload")
		}
		r.Restart = append(r.Restart, h.Service.RestartCommand())
	}
	return nil
}

func (h *Hook) launchdLabel() (string, error) { return LaunchdLabel(h.Getenv) }

func (h *Hook) installPlist(st *State, r *Report) error {
	label, err := h.launchdLabel()
	if err != nil {
		r.add(LayerLaunchd, Failed, err.Error(), "fix OPENCLAW_LAUNCHD_LABEL")
		return nil
	}
	file := plistPathFor(h.Paths.Home, label)
	h.snapshotsStayOn(r, "clawwarden does not change the LaunchAgent's environment beyond PATH")
	fi, err := safefile.Check(file)
	if errors.Is(err, fs.ErrNotExist) {
		r.add(LayerLaunchd, Skipped, fmt.Sprintf("no LaunchAgent %s: the gateway does not run as a LaunchAgent here, so there is no service PATH to change", file), "")
		return nil
	}
	if err != nil {
		return err
	}
	data, err := safefile.ReadFile(file)
	if err != nil {
		return err
	}
	edit, err := SetPlistPATH(data, h.Paths.BinDir)
	if err != nil {
		r.add(LayerLaunchd, Failed, fmt.Sprintf("%s: %v", file, err), "")
		return nil
	}
	note := h.envWrapperNote(edit.EnvWrapper)
	if !edit.Changed {
		r.add(LayerLaunchd, Unchanged, fmt.Sprintf("%s already has PATH=%s", file, edit.NewPATH)+note, "")
		return nil
	}
	backupDir := filepath.Join(h.Paths.SecurityDir, "hook-backups")
	backup := filepath.Join(backupDir, fmt.Sprintf("%s.plist.%s.orig", label, h.Now().UTC().Format("20060102T150405Z")))
	if !h.SkipConfirm && h.Confirm != nil {
		q := fmt.Sprintf("clawwarden will edit the OpenClaw gateway's LaunchAgent\n  %s\nto set PATH=%s\n(a copy of the original goes to %s).\nEdit it?", file, edit.NewPATH, backup)
		ok, err := h.Confirm(q)
		if err != nil || !ok {
			why := "not confirmed"
			if err != nil {
				why = "could not ask for confirmation: " + err.Error()
			}
			r.add(LayerLaunchd, Skipped, fmt.Sprintf("%s left unchanged: %s", file, why), "answer y, or set OPENCLAW_SKIP_PLIST_CONFIRM=1 to edit it without asking")
			return nil
		}
	}
	if err := safefile.EnsureDir(backupDir); err != nil {
		return err
	}
	if err := safefile.WriteFile(backup, data); err != nil {
		return err
	}
	mode := fi.Mode().Perm()
	if err := safefile.WriteFile(file, edit.Data); err != nil {
		return err
	}
	if err := os.Chmod(file, mode); err != nil {
		return err
	}
	st.Plist = &PlistRecord{
		Label: label, Path: file, Backup: backup,
		OriginalSHA256: digest(data), WrittenSHA256: digest(edit.Data), Mode: uint32(mode),
		OldPATH: edit.OldPATH, HadEnv: edit.HadEnv, WrittenPATH: edit.NewPATH,
		WrittenAt: h.Now().UTC(),
	}
	r.add(LayerLaunchd, Changed, fmt.Sprintf("set PATH=%s in %s (original kept as %s)", edit.NewPATH, file, backup)+note, "")
	if h.Service != nil {
		r.Restart = append(r.Restart, h.Service.RestartCommand())
	}
	return nil
}

// snapshotsStayOn reports that install could not turn off OpenClaw's exec
// shell snapshots for the gateway, and why.
func (h *Hook) snapshotsStayOn(r *Report, why string) {
	r.add(LayerShellAliases, Skipped, fmt.Sprintf("OpenClaw's exec shell snapshots stay on (%s): an alias or function named sudo in the account's shell startup files would reach the agent's exec shell; 'clawwarden hook status' looks for one", why),
		"set "+SnapshotEnv+"=0 in the gateway's environment where you start it")
}

// envWrapperNote explains when OpenClaw's generated environment file sets a
// PATH that replaces the plist's.
func (h *Hook) envWrapperNote(envFile string) string {
	if envFile == "" {
		return ""
	}
	p, set, err := envFilePATH(envFile)
	if err != nil || !set || firstInPATH(p, h.Paths.BinDir) {
		return ""
	}
	return fmt.Sprintf("; note: the gateway sources %s, whose PATH replaces the plist's, so for this gateway the %s layer is what puts the shim first", envFile, PrependKey)
}
