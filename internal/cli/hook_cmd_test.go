package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/hook"
)

// hookEnv gives clawwarden a fresh home with no openclaw command on PATH
// (the real OpenClaw is exercised in internal/e2e) and returns the home.
func hookEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("OPENCLAW_STATE_DIR", "")
	t.Setenv("OPENCLAW_CYBER_SKILL_DIR", "")
	t.Setenv("OPENCLAW_PROFILE", "")
	t.Setenv("OPENCLAW_SYSTEMD_UNIT", "")
	t.Setenv("PATH", t.TempDir())
	return home
}

func runCW(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(append([]string{"clawwarden"}, args...), Stdio{In: strings.NewReader("y\n"), Out: &out, Err: &errb, Env: os.Environ()})
	return code, out.String(), errb.String()
}

func TestHookCommands(t *testing.T) {
	home := hookEnv(t)
	shim := filepath.Join(home, ".openclaw", "bin", "sudo")

	code, out, _ := runCW(t, "hook", "status")
	if code != ExitFindings || !strings.Contains(out, "NOT effective") {
		t.Errorf("status before install: %d\n%s", code, out)
	}

	// No openclaw command and no gateway service: the shim is created, but
	// the hook is not in effect, and the output says how to finish.
	code, out, errOut := runCW(t, "hook", "install")
	if code != ExitFindings {
		t.Errorf("install without openclaw: exit %d, want %d\n%s%s", code, ExitFindings, out, errOut)
	}
	if !strings.Contains(out, "openclaw config set tools.exec.pathPrepend '[\""+filepath.Join(home, ".openclaw", "bin")+"\"]' --strict-json") {
		t.Errorf("install output does not give the pathPrepend command:\n%s", out)
	}
	if !strings.Contains(errOut, "the hook is not in effect") {
		t.Errorf("stderr: %s", errOut)
	}
	if fi, err := os.Lstat(shim); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("shim: %v %v", fi, err)
	}

	// With a systemd user unit, the drop-in is the layer that works.
	unit := filepath.Join(home, ".config", "systemd", "user", "openclaw-gateway.service")
	os.MkdirAll(filepath.Dir(unit), 0o700)
	os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/true\nEnvironment=PATH=/usr/bin:/bin\n"), 0o644)
	code, out, errOut = runCW(t, "hook", "install")
	if code != ExitOK || !strings.Contains(out, "wrote drop-in") || !strings.Contains(out, "systemctl --user restart openclaw-gateway.service") {
		t.Errorf("install with a unit: exit %d\n%s%s", code, out, errOut)
	}
	dropIn := filepath.Join(unit+".d", hook.DropInName)
	if _, err := os.Stat(dropIn); err != nil {
		t.Error(err)
	}

	code, out, _ = runCW(t, "hook", "status", "--json")
	var st hook.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	// The gateway was not restarted (there is no user bus here), so the
	// hook is not in effect yet.
	if code != ExitFindings || st.Effective || len(st.Layers) != 7 {
		t.Errorf("status --json: exit %d, %+v", code, st)
	}
	for _, name := range []string{hook.LayerShim, hook.LayerSudoedit} {
		if l, _ := st.Layer(name); l.State != hook.StateOK {
			t.Errorf("%s layer: %+v", name, l)
		}
	}
	if l, _ := st.Layer(hook.LayerSystemd); l.State != hook.StateOK {
		t.Errorf("systemd layer: %+v", l)
	}

	code, out, errOut = runCW(t, "hook", "uninstall")
	if code != ExitOK {
		t.Errorf("uninstall: exit %d\n%s%s", code, out, errOut)
	}
	for _, p := range []string{shim, dropIn, filepath.Join(home, ".openclaw", "security", hook.StateFile)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after uninstall: %v", p, err)
		}
	}
	if code, out, _ := runCW(t, "hook", "uninstall"); code != ExitOK || !strings.Contains(out, "no hook installed") {
		t.Errorf("second uninstall: exit %d\n%s", code, out)
	}
}

func TestHookInstallRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(home string)
		hint  string
	}{
		{"original skill's shim", func(home string) {
			os.MkdirAll(filepath.Join(home, ".openclaw", "bin"), 0o700)
			os.WriteFile(filepath.Join(home, ".openclaw", "bin", "sudo"), []byte("#!/bin/sh\n"), 0o755)
		}, "move it aside"},
		{"symlink to something else", func(home string) {
			os.MkdirAll(filepath.Join(home, ".openclaw", "bin"), 0o700)
			os.Symlink("/usr/bin/sudo", filepath.Join(home, ".openclaw", "bin", "sudo"))
		}, "move it aside"},
		{"corrupt state", func(home string) {
			os.MkdirAll(filepath.Join(home, ".openclaw", "security"), 0o700)
			os.WriteFile(filepath.Join(home, ".openclaw", "security", hook.StateFile), []byte("{"), 0o600)
		}, "move it aside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := hookEnv(t)
			tt.setup(home)
			code, out, errOut := runCW(t, "hook", "install")
			if code != ExitBadState || !strings.Contains(errOut, "clawwarden: hint: ") || !strings.Contains(errOut, tt.hint) {
				t.Errorf("exit %d, want %d\n%s%s", code, ExitBadState, out, errOut)
			}
		})
	}
}
