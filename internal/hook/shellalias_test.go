package hook

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/unitfile"
)

func TestFindSudoOverrides(t *testing.T) {
	tests := []struct {
		line string
		kind string // "" when the line defines nothing named sudo
		name string
	}{
		// As people write them in ~/.bashrc or ~/.zshrc.
		{"alias sudo=/usr/bin/sudo", "alias", "sudo"},
		{"alias sudo='/usr/bin/sudo'", "alias", "sudo"},
		{`  alias sudo="sudo "`, "alias", "sudo"},
		{"alias -- sudoedit=/usr/bin/sudoedit", "alias", "sudoedit"},
		{"alias ll='ls -l' sudo=/usr/bin/sudo", "alias", "sudo"},
		{"alias 'sudo=/usr/bin/sudo'", "alias", "sudo"},
		{`alias "sudo=/usr/bin/sudo"`, "alias", "sudo"},
		{`alias \sudo=/usr/bin/sudo`, "alias", "sudo"},
		{"[ -x /usr/bin/sudo ] && alias sudo=/usr/bin/sudo", "alias", "sudo"},
		{`sudo() { /usr/bin/sudo "$@"; }`, "function", "sudo"},
		{"sudo () {", "function", "sudo"},
		{"function sudo {", "function", "sudo"},
		{"function sudoedit() {", "function", "sudoedit"},
		// As bash's alias and declare -f, and zsh's alias -L and typeset -f,
		// print them into OpenClaw's snapshot.
		{"alias sudo='/usr/bin/sudo'", "alias", "sudo"},
		{"sudo () ", "function", "sudo"},
		// Not an override.
		{"# alias sudo=/usr/bin/sudo", "", ""},
		{"alias ll='ls -l'", "", ""},
		{"alias please='sudo'", "", ""},
		{"sudo apt-get update", "", ""},
		{"export SUDO_EDITOR=vim", "", ""},
		{"pseudo() { :; }", "", ""},
		{"unalias -a 2>/dev/null || true", "", ""},
		{`echo "use sudo (not su)"`, "", ""},
	}
	for _, tt := range tests {
		got := FindSudoOverrides("f", []byte("# header\n"+tt.line+"\n"))
		switch {
		case tt.kind == "" && len(got) != 0:
			t.Errorf("%q: found %+v, want nothing", tt.line, got)
		case tt.kind != "" && (len(got) != 1 || got[0].Kind != tt.kind || got[0].Name != tt.name || got[0].Line != 2):
			t.Errorf("%q: found %+v, want %s %s on line 2", tt.line, got, tt.kind, tt.name)
		}
	}
}

// TestStatusReportsSudoAlias: an alias named sudo in ~/.bashrc, or in
// OpenClaw's shell snapshot, makes the hook not effective, naming it.
func TestStatusReportsSudoAlias(t *testing.T) {
	for _, file := range []string{".bashrc", ".openclaw/cache/shell-snapshots/0123abcd.sh"} {
		t.Run(file, func(t *testing.T) {
			w := newWorld(t, "")
			h := w.hook("linux")
			if _, err := h.Install(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s := w.status(h); !s.Effective {
				t.Fatalf("not effective before the alias: %+v", s.Layers)
			}
			p := w.write(file, "# OpenClaw exec shell snapshot. Generated; do not edit.\nalias ll='ls -l'\nalias sudo='/usr/bin/sudo'\n", 0o600)
			s := w.status(h)
			l, _ := s.Layer(LayerShellAliases)
			if s.Effective || l.State != StateOverridden || !strings.Contains(l.Detail, p+":3: alias sudo") || l.Fix == "" {
				t.Errorf("status with %s: effective %v, %+v", file, s.Effective, l)
			}
		})
	}
}

func TestSnapshotDir(t *testing.T) {
	w := newWorld(t, "")
	if got, want := w.hook("linux").SnapshotDir(), filepath.Join(w.home, ".openclaw", "cache", "shell-snapshots"); got != want {
		t.Errorf("SnapshotDir = %s, want %s", got, want)
	}
}

// TestDropInTurnsSnapshotsOff: the drop-in sets OPENCLAW_EXEC_SHELL_SNAPSHOT=0
// as systemd reads it; without a unit, install says snapshots stay on.
func TestDropInTurnsSnapshotsOff(t *testing.T) {
	b, err := RenderDropIn("/home/a/.openclaw/bin:/usr/bin")
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, raw := range unitfile.Values(string(b), "Service", "Environment") {
		words, err := unitfile.SplitWords(raw)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, words...)
	}
	if !slices.Contains(env, SnapshotEnv+"=0") {
		t.Errorf("drop-in environment %q lacks %s=0", env, SnapshotEnv)
	}

	w := newWorld(t, "")
	r, err := w.hook("linux").Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerShellAliases, Skipped) {
		t.Errorf("install without a unit does not say snapshots stay on: %+v", r.Steps)
	}
}
