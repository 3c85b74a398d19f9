package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/clawwarden/clawwarden/internal/quote"
)

// LayerShellAliases reports aliases and shell functions named sudo or
// sudoedit that OpenClaw's exec shell would load.
const LayerShellAliases = "shell_aliases"

// SnapshotEnv is the gateway environment variable that turns OpenClaw's
// exec shell snapshots off ("0", "false", "no" or "off"; OpenClaw's
// docs/help/environment.md, dist/bash-tools.exec-runtime-*.mjs).
const SnapshotEnv = "OPENCLAW_EXEC_SHELL_SNAPSHOT"

// SudoOverride is an alias or shell function named sudo or sudoedit: in
// the agent's shell it decides what "sudo" runs, before PATH is looked at,
// so it skips the shim whatever pathPrepend says.
type SudoOverride struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Kind string `json:"kind"` // "alias" or "function"
	Name string `json:"name"` // sudo or sudoedit
	Text string `json:"text"` // the line, trimmed and cut to 200 bytes
}

func (o SudoOverride) String() string {
	return fmt.Sprintf("%s:%d: %s %s (%s)", o.File, o.Line, o.Kind, o.Name, o.Text)
}

// sudoAlias matches an alias definition naming sudo or sudoedit, as people
// write it (alias sudo='…', alias -- sudo=…, alias ll=ls sudo=…,
// alias 'sudo=…') and as
// bash's `alias` and zsh's `alias -L` print it into OpenClaw's snapshot.
var sudoAlias = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s;&|({])alias\s+(?:[^#;&|]*\s)?['"\\]?(sudo|sudoedit)['"]?=`)
})

// sudoFunction matches a function definition naming sudo or sudoedit:
// `sudo() {`, `function sudo {`, and `sudo () ` as `declare -f` and
// `typeset -f` print it.
var sudoFunction = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s;&|({])(?:function\s+(sudo|sudoedit)(?:\s|\(|\{|$)|(sudo|sudoedit)\s*\(\s*\))`)
})

// FindSudoOverrides returns the aliases and functions named sudo or
// sudoedit that content (a shell startup file or an OpenClaw shell
// snapshot, named file) defines. Comment lines are skipped; it reads lines,
// not shell grammar, so a definition spread over lines by a continuation
// or built at run time is not seen.
func FindSudoOverrides(file string, content []byte) []SudoOverride {
	var out []SudoOverride
	for i, line := range strings.Split(string(content), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		kind, name := "", ""
		if m := sudoAlias().FindStringSubmatch(t); m != nil {
			kind, name = "alias", m[1]
		} else if m := sudoFunction().FindStringSubmatch(t); m != nil {
			kind, name = "function", m[1]+m[2]
		}
		if kind == "" {
			continue
		}
		if len(t) > 200 {
			t = t[:200] + "…"
		}
		out = append(out, SudoOverride{File: file, Line: i + 1, Kind: kind, Name: name, Text: t})
	}
	return out
}

// SnapshotDir is where OpenClaw keeps its exec shell snapshots:
// $OPENCLAW_STATE_DIR/cache/shell-snapshots.
func (h *Hook) SnapshotDir() string {
	return filepath.Join(h.Paths.StateDir, "cache", "shell-snapshots")
}

// shellFiles are the files whose aliases and functions reach the agent's
// exec shell: OpenClaw's snapshots (bash -i sources ~/.bashrc, which on
// many systems sources ~/.bash_aliases; zsh sources ${ZDOTDIR:-~}/.zshrc),
// the system-wide rc files interactive shells read, and the login files a
// person may have put aliases in. Missing files are skipped.
func (h *Hook) shellFiles() ([]string, error) {
	home := h.Paths.Home
	zdot := home
	if z := strings.TrimSpace(h.Getenv("ZDOTDIR")); z != "" {
		zdot = z
	}
	files := []string{
		filepath.Join(home, ".bashrc"), filepath.Join(home, ".bash_aliases"),
		filepath.Join(home, ".bash_profile"), filepath.Join(home, ".bash_login"), filepath.Join(home, ".profile"),
		filepath.Join(zdot, ".zshrc"), filepath.Join(zdot, ".zprofile"),
		// zsh reads .zshenv even for `zsh -c`, snapshots or not.
		filepath.Join(zdot, ".zshenv"),
	}
	// bash sources $BASH_ENV for `bash -c`, snapshots or not.
	if f := strings.TrimSpace(h.Getenv("BASH_ENV")); filepath.IsAbs(f) {
		files = append(files, f)
	}
	files = append(files, h.SystemShellFiles...)
	snaps, err := filepath.Glob(filepath.Join(h.SnapshotDir(), "*.sh"))
	if err != nil {
		return nil, err
	}
	slices.Sort(snaps)
	return append(snaps, files...), nil
}

// DefaultSystemShellFiles are the system-wide rc files bash and zsh read
// in an interactive shell, as OpenClaw's snapshot runs them.
var DefaultSystemShellFiles = []string{"/etc/bash.bashrc", "/etc/bashrc", "/etc/zsh/zshrc", "/etc/zshrc"}

// shellAliasStatus reports the aliases and functions named sudo or sudoedit
// in the files of [Hook.shellFiles].
func (h *Hook) shellAliasStatus(context.Context) LayerStatus {
	l := LayerStatus{Layer: LayerShellAliases}
	files, err := h.shellFiles()
	if err != nil {
		l.State, l.Detail = StateUnknown, err.Error()
		return l
	}
	var found []SudoOverride
	var unread []string
	read := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			unread = append(unread, err.Error())
			continue
		}
		read++
		found = append(found, FindSudoOverrides(f, bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))...)
	}
	if len(found) > 0 {
		var parts []string
		for _, o := range found {
			parts = append(parts, o.String())
		}
		l.State = StateOverridden
		l.Detail = "an alias or function named sudo or sudoedit decides what the agent's \"sudo\" runs, before PATH, so it skips the shim: " + strings.Join(parts, "; ")
		l.Fix = fmt.Sprintf("remove it from the startup file, then delete OpenClaw's snapshots (rm %s/*.sh) or wait 5 minutes for it to take them again; keep %s=0 in the gateway's environment", quote.Word(h.SnapshotDir()), SnapshotEnv)
		return l
	}
	if len(unread) > 0 {
		l.State, l.Detail = StateUnknown, "cannot read: "+strings.Join(unread, "; ")
		return l
	}
	l.State, l.Detail = StateOK, fmt.Sprintf("no alias or function named sudo or sudoedit in %d shell startup file(s) and OpenClaw shell snapshot(s)", read)
	return l
}
