package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// writeFakeModelConfig writes an openclaw.json whose default model is the
// fake model m and whose exec tool runs commands without asking.
func (w *openclawWorld) writeFakeModelConfig(m *fakeModel) {
	w.t.Helper()
	data := m.config(nil)
	if err := os.MkdirAll(filepath.Dir(w.config), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(w.config, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// listedPlugin is one entry of `openclaw plugins list --json`.
type listedPlugin struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Enabled bool   `json:"enabled"`
	RootDir string `json:"rootDir"`
}

// plugin returns clawwarden's plugin as `openclaw plugins list --json`
// shows it; nil when it is not listed.
func (w *openclawWorld) plugin() *listedPlugin {
	w.t.Helper()
	var list struct {
		Plugins []listedPlugin `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(w.oc("plugins", "list", "--json")), &list); err != nil {
		w.t.Fatal(err)
	}
	i := slices.IndexFunc(list.Plugins, func(p listedPlugin) bool { return p.ID == hook.PluginID })
	if i < 0 {
		return nil
	}
	return &list.Plugins[i]
}

// hookStatus runs `clawwarden hook status --json [ARGS]`, wanting exit
// code want.
func (w *openclawWorld) hookStatus(want int, args ...string) hook.Status {
	w.t.Helper()
	var st hook.Status
	if err := json.Unmarshal([]byte(w.clawwarden(want, append([]string{"hook", "status", "--json"}, args...)...)), &st); err != nil {
		w.t.Fatal(err)
	}
	return st
}

// TestOpenClawPlugin: against the real OpenClaw CLI, over a config
// OpenClaw wrote with a pathPrepend of its own, `hook install` puts the shim
// first in tools.exec.pathPrepend as `openclaw config get` reads it back
// (keeping "~/bin" as written) and links clawwarden's plugin; a second
// install changes nothing. In one agent turn (a fake model scripting the
// exec tool) the plugin blocks sudo by path and an alias named sudo with its
// reason in the tool result, lets a harmless command run, and gives the exec
// the session key. Then what the agent can do from its exec tool to skip the
// installed shim is reported: an alias named sudo in ~/.bashrc (which
// OpenClaw's exec shell snapshot loads before every command) makes `hook
// status --runtime` exit 10 naming it, while the plugin is loaded with its
// hooks; after `openclaw config unset tools.exec.pathPrepend`, `hook status`
// and `assess` say so. `hook uninstall` removes the plugin, puts the old
// pathPrepend back and leaves openclaw.json byte for byte as it was before
// install. (One world for all of it: each install and uninstall is a minute
// of Node starts. Installing over an unset pathPrepend, and its uninstall,
// are TestInitEnforceThenUninstall's.)
func TestOpenClawPlugin(t *testing.T) {
	t.Parallel()
	w := newOpenClawWorld(t)
	const prompt = "plugin-check-7f3a"
	commands := []string{
		"/usr/bin/sudo -n /usr/bin/id",
		"alias sudo=/usr/bin/sudo",
		"echo ok-plugin",
		"echo SID=$OPENCLAW_TASK_SESSION_ID REASON=$OPENCLAW_PRIV_REASON",
	}
	m := startFakeModel(t, prompt, commands, func([]string) string { return "done" })
	w.writeFakeModelConfig(m)
	// As people's configs are: written by OpenClaw (its key order, its meta),
	// here with a pathPrepend of the person's (one batch: each `openclaw
	// config set` is a Node start).
	existing := []string{"/opt/tools/bin", "~/bin"}
	ops, _ := json.Marshal([]map[string]any{{"path": "gateway.port", "value": 19001}, {"path": hook.PrependKey, "value": existing}})
	w.oc("config", "set", "--batch-json", string(ops))
	before, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	out := w.clawwarden(0, "hook", "install")
	t.Logf("hook install took %s", time.Since(start))
	if !strings.Contains(out, "linked it into OpenClaw as plugin "+hook.PluginID) || !strings.Contains(out, "set "+hook.PrependKey) {
		t.Errorf("install output does not report the plugin and the pathPrepend change:\n%s", out)
	}
	pluginDir := filepath.Join(w.home, ".openclaw", "security", "openclaw-plugin")
	p := w.plugin()
	if p == nil || p.Status != "loaded" || !p.Enabled || p.RootDir != pluginDir {
		t.Fatalf("openclaw plugins list after install: %+v, want loaded and enabled from %s", p, pluginDir)
	}
	// OpenClaw reads "~/bin" as HOME/bin; the file keeps "~/bin".
	binDir := filepath.Join(w.home, ".openclaw", "bin")
	if got, want := w.pathPrepend(), append([]string{binDir}, w.expandTilde(existing)...); !slices.Equal(got, want) {
		t.Errorf("after install, openclaw config get %s = %q, want %q", hook.PrependKey, got, want)
	}
	installed, _ := os.ReadFile(w.config)
	if !bytes.Contains(installed, []byte(`"~/bin"`)) {
		t.Errorf("install rewrote the entries as written in openclaw.json:\n%s", installed)
	}
	if target, err := os.Readlink(filepath.Join(binDir, "sudo")); err != nil || target != w.bin {
		t.Errorf("shim -> %q, %v; want %s", target, err, w.bin)
	}
	// The shim is clawwarden acting as sudo: it refuses non-interactive sudo.
	if code, _, errOut := w.run(filepath.Join(binDir, "sudo"), "-n", "true"); code == 0 || !strings.Contains(errOut, "sudo (clawwarden shim)") {
		t.Errorf("sudo -n true with the shim first on PATH: exit %d, stderr %q", code, errOut)
	}
	// Idempotent: nothing changes the second time.
	if out := w.clawwarden(0, "hook", "install"); !strings.Contains(out, "already starts with") {
		t.Errorf("second install:\n%s", out)
	}
	if again, _ := os.ReadFile(w.config); !bytes.Equal(again, installed) {
		t.Error("second install changed openclaw.json")
	}

	start = time.Now()
	code, turnOut, turnErr := w.run(w.openclaw, "agent", "--local", "--agent", "main", "--json", "--message", "please run these: "+prompt)
	t.Logf("agent turn took %s", time.Since(start))
	if code != 0 {
		t.Fatalf("openclaw agent: exit %d\n%s\n%s", code, turnOut, turnErr)
	}
	results := m.toolResultsReceived()
	if len(results) != len(commands) {
		t.Fatalf("tool results: %q, want one per command %q\nagent output:\n%s\n%s", results, commands, turnOut, turnErr)
	}
	for i, want := range []string{"clawwarden blocked this command (sudo_by_path)", "clawwarden blocked this command (sudo_alias)"} {
		if !strings.Contains(results[i], want) {
			t.Errorf("tool result of %q: %q, want the plugin's reason %q", commands[i], results[i], want)
		}
	}
	if !strings.Contains(results[2], "ok-plugin") || strings.Contains(results[2], "clawwarden blocked") {
		t.Errorf("tool result of %q: %q, want it to run", commands[2], results[2])
	}
	if !strings.Contains(results[3], "SID=agent:main:") || !strings.Contains(results[3], "REASON=requested by OpenClaw agent main in session agent:main:") {
		t.Errorf("tool result of %q: %q, want the session key and reason", commands[3], results[3])
	}

	// Ways round the shim the agent can open from its exec tool. An alias
	// named sudo in ~/.bashrc: `hook status` names it and exits 10, while the
	// plugin itself is loaded with its hooks.
	if !strings.Contains(out, "exec shell snapshots stay on") {
		t.Errorf("install output does not say OpenClaw's exec shell snapshots stay on (no systemd user unit here):\n%s", out)
	}
	bashrc := filepath.Join(w.home, ".bashrc")
	if err := os.WriteFile(bashrc, []byte("# ~/.bashrc\nexport EDITOR=vi\nalias sudo=/usr/bin/sudo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	st := w.hookStatus(10, "--runtime")
	t.Logf("hook status --runtime took %s", time.Since(start))
	if l, _ := st.Layer(hook.LayerPlugin); l.State != hook.StateOK || !strings.Contains(l.Detail, "before_tool_call") || !strings.Contains(l.Detail, "resolve_exec_env") {
		t.Errorf("plugin layer after install (--runtime): %+v", l)
	}
	if l, _ := st.Layer(hook.LayerShellAliases); st.Effective || l.State != hook.StateOverridden || !strings.Contains(l.Detail, bashrc+":3: alias sudo") {
		t.Errorf("hook status with an alias named sudo in ~/.bashrc: effective %v, %+v; want it named", st.Effective, l)
	}
	if err := os.WriteFile(bashrc, []byte("# ~/.bashrc\nexport EDITOR=vi\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// What an agent can run through its exec tool.
	w.oc("config", "unset", hook.PrependKey)
	st = w.hookStatus(10)
	if l, _ := st.Layer(hook.LayerPathPrepend); st.Effective || l.State != hook.StateMissing || !strings.Contains(l.Detail, "unset") {
		t.Errorf("hook status after pathPrepend was unset: effective %v, %+v", st.Effective, l)
	}
	if l, _ := st.Layer(hook.LayerShellAliases); l.State != hook.StateOK {
		t.Errorf("shell_aliases after the alias was removed: %+v", l)
	}
	// The violation is same-user mode's: no enforced mode on the host
	// meanwhile.
	reports := t.TempDir()
	unlock, err := testenv.LockHost(testenv.EnforcedLock)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.run(w.bin, "assess", "--no-openclaw-audit", "--fail-on", "violation", "--out", reports)
	unlock()
	if code != 10 {
		t.Errorf("assess: exit %d, want 10 (a violation)\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(reports, "openclaw-assessment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Checks []assessedCheck `json:"checks"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Checks, func(c assessedCheck) bool { return c.CheckID == "runtime_privilege_hook_installed" })
	if i < 0 {
		t.Fatal("assess has no runtime_privilege_hook_installed check")
	}
	if c := rep.Checks[i]; c.Status != "violation" || !strings.Contains(c.Evidence, hook.PrependKey+" is unset") {
		t.Errorf("runtime_privilege_hook_installed after pathPrepend was unset: %s, evidence %q", c.Status, c.Evidence)
	}
	// The person puts it back as install set it; uninstall then restores
	// openclaw.json to the bytes it had before install.
	v, _ := json.Marshal(append([]string{binDir}, existing...))
	w.oc("config", "set", hook.PrependKey, string(v), "--strict-json")

	out = w.clawwarden(0, "hook", "uninstall")
	if !strings.Contains(out, "unlinked plugin "+hook.PluginID) {
		t.Errorf("uninstall output does not report the plugin:\n%s", out)
	}
	if p := w.plugin(); p != nil {
		t.Errorf("openclaw plugins list after uninstall still has %+v", p)
	}
	if _, err := os.Lstat(pluginDir); !os.IsNotExist(err) {
		t.Errorf("plugin folder still there: %v", err)
	}
	after, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Errorf("openclaw.json after uninstall differs from before install\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := os.Lstat(filepath.Join(binDir, "sudo")); !os.IsNotExist(err) {
		t.Errorf("shim still there: %v", err)
	}
}
