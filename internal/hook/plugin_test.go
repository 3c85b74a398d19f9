package hook

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

type pluginRule struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
}

func pluginRules(t *testing.T) []pluginRule {
	t.Helper()
	b, err := pluginFiles.ReadFile("plugin/patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Rules []pluginRule }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Rules
}

// blockedBy returns the id of the first rule that matches command, as the
// plugin's blockReason does; "" when none does.
func blockedBy(rules []pluginRule, res []*regexp.Regexp, command string) string {
	for i, re := range res {
		if re.MatchString(command) {
			return rules[i].ID
		}
	}
	return ""
}

// pluginCases are exec commands and the rule that blocks them ("" runs).
var pluginCases = []struct {
	command string
	rule    string
}{
	{"/usr/bin/sudo -n /usr/bin/id", "sudo_by_path"},
	{"/usr/bin/sudoedit /etc/hosts", "sudo_by_path"},
	{"./sudo id", "sudo_by_path"},
	{"cd /tmp && ../usr/bin/sudo id", "sudo_by_path"},
	{"env /usr/bin/sudo id", "sudo_by_path"},
	{"nohup /usr/bin/sudo -b id", "sudo_by_path"},
	{"echo $(/usr/bin/sudo id)", "sudo_by_path"},
	{"bash -c '/usr/bin/sudo id'", "sudo_by_path"},
	{"S=/usr/bin/sudo; $S id", "sudo_by_path"},
	{`S="/usr/bin/sudo"; $S id`, "sudo_by_path"},
	{"su -", "other_root_tool"},
	{"su root -c id", "other_root_tool"},
	{"/bin/su", "other_root_tool"},
	{"pkexec id", "other_root_tool"},
	{"doas id", "other_root_tool"},
	{"true && run0 id", "other_root_tool"},
	{"busybox su", "other_root_tool"},
	{`bash -c "doas id"`, "other_root_tool"},
	{"alias sudo=/usr/bin/sudo", "sudo_alias"},
	{"alias ll='ls -l' sudo='/usr/bin/sudo'", "sudo_alias"},
	{"alias -- sudoedit=/usr/bin/sudoedit", "sudo_alias"},
	{"unalias sudo", "sudo_alias"},
	{`sudo() { /usr/bin/sudo "$@"; }`, "sudo_function"},
	{"function sudo { command /usr/bin/sudo \"$@\"; }", "sudo_function"},
	{"unset -f sudo", "sudo_function"},
	{"PATH=/usr/bin sudo id", "sudo_lookup_changed"},
	{"export PATH=/usr/bin:/bin; sudo id", "sudo_lookup_changed"},
	{"command -p sudo id", "sudo_lookup_changed"},
	{"env -i sudo id", "sudo_lookup_changed"},
	{"env -u PATH sudo id", "sudo_lookup_changed"},
	{"hash -p /tmp/x sudo; sudo id", "sudo_lookup_changed"},
	// Found by red-teaming the first version.
	{"eval /usr/bin/sudo id", "sudo_by_path"},
	{"{ /usr/bin/sudo id; }", "sudo_by_path"},
	{"if /usr/bin/sudo id; then :; fi", "sudo_by_path"},
	{"! /usr/bin/sudo id", "sudo_by_path"},
	{"/usr/bin/sudo>/dev/null", "sudo_by_path"},
	{"/usr/bin/sudo${IFS}id", "sudo_by_path"},
	{"eval doas id", "other_root_tool"},
	{"{ su; }", "other_root_tool"},
	{"alias 'sudo=/usr/bin/sudo'", "sudo_alias"},
	{`alias "sudo=/usr/bin/sudo"`, "sudo_alias"},
	{"rm ~/.openclaw/bin/sudo; sudo id", "guard_tamper"},
	{"ln -sf /usr/bin/sudo ~/.openclaw/bin/sudo", "guard_tamper"},
	{"mv ~/.openclaw/bin ~/.openclaw/bin.x", "guard_tamper"},
	{`echo '{"rules":[]}' > ~/.openclaw/security/openclaw-plugin/patterns.json`, "guard_tamper"},
	{"openclaw plugins disable clawwarden", "guard_tamper"},
	{"openclaw config unset tools.exec.pathPrepend", "guard_tamper"},
	{"openclaw config set tools.exec.pathPrepend '[]' --strict-json", "guard_tamper"},

	// Allowed: the shim's way, and commands that only mention these names.
	{"sudo /usr/bin/id", ""},
	{"sudo -n apt-get update", ""},
	{"sudoedit /etc/hosts", ""},
	{"echo ok", ""},
	{"echo SID=$OPENCLAW_TASK_SESSION_ID", ""},
	{"cat /etc/sudoers", ""},
	{"grep su /etc/passwd", ""},
	{"ls -l /usr/share/doc/sudo-ldap", ""},
	{"alias ll='ls -l'", ""},
	{"visudo -c", ""},
	{"git commit -m 'use pseudo code'", ""},
	{"./summary.sh", ""},
	{"ls -l ~/.openclaw/bin", ""},
	{"cat ~/.openclaw/security/privileged-audit.jsonl", ""},
	{"openclaw config get tools.exec.pathPrepend", ""},
	{"if true; then sudo id; fi", ""},
}

// TestPluginPatterns: every pattern is RE2 (Go's regexp compiles it), and
// the rules block the ways round the shim and let ordinary commands run.
func TestPluginPatterns(t *testing.T) {
	rules := pluginRules(t)
	var res []*regexp.Regexp
	for _, r := range rules {
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			t.Fatalf("rule %s is not RE2: %v", r.ID, err)
		}
		if r.Reason == "" {
			t.Errorf("rule %s has no reason", r.ID)
		}
		res = append(res, re)
	}
	for _, tt := range pluginCases {
		if got := blockedBy(rules, res, tt.command); got != tt.rule {
			t.Errorf("%q: blocked by %q, want %q", tt.command, got, tt.rule)
		}
	}
}

// TestPluginPatternsInNode runs the plugin's own blockReason under Node, so
// JavaScript reads the patterns as RE2 does. Skipped without node.
func TestPluginPatternsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		cached := "/var/cache/clawwarden-test/node24/node_modules/node/bin/node"
		if d := os.Getenv("CLAWWARDEN_TEST_CACHE"); d != "" {
			cached = filepath.Join(d, "node24/node_modules/node/bin/node")
		}
		if _, err := os.Stat(cached); err != nil {
			testenv.Skip(t, "node is not installed")
		}
		node = cached
	}
	dir := t.TempDir()
	files, err := pluginContent()
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var commands []string
	for _, tt := range pluginCases {
		commands = append(commands, tt.command)
	}
	in, _ := json.Marshal(commands)
	script := `const m = await import(process.argv[1]);
const cmds = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const ids = cmds.map((c) => { const r = m.blockReason(c); const x = /\(([a-z_]+)\)/.exec(r); return r ? x[1] : ""; });
const hooks = [];
m.default.register({ on: (name) => hooks.push(name) });
console.log(JSON.stringify({ ids, hooks, id: m.default.id }));`
	cmd := exec.Command(node, "--input-type=commonjs", "-e", "(async () => {"+script+"})()", filepath.Join(dir, "index.mjs"))
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		IDs   []string
		Hooks []string
		ID    string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, tt := range pluginCases {
		if got.IDs[i] != tt.rule {
			t.Errorf("node: %q: blocked by %q, want %q", tt.command, got.IDs[i], tt.rule)
		}
	}
	if !slices.Equal(got.Hooks, pluginHooks) || got.ID != PluginID {
		t.Errorf("plugin %q registers %q, want %q %q", got.ID, got.Hooks, PluginID, pluginHooks)
	}
}

// TestPluginManifest: the manifest OpenClaw reads before loading the code.
func TestPluginManifest(t *testing.T) {
	files, err := pluginContent()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ID           string
		Activation   struct{ OnStartup bool }
		ConfigSchema map[string]any
	}
	if err := json.Unmarshal(files["openclaw.plugin.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != PluginID || !m.Activation.OnStartup || m.ConfigSchema == nil {
		t.Errorf("openclaw.plugin.json: %+v", m)
	}
	var p struct {
		OpenClaw struct{ Extensions []string } `json:"openclaw"`
	}
	if err := json.Unmarshal(files["package.json"], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.OpenClaw.Extensions) != 1 || files[strings.TrimPrefix(p.OpenClaw.Extensions[0], "./")] == nil {
		t.Errorf("package.json names entry %q, not one of the plugin's files", p.OpenClaw.Extensions)
	}
}

// fakePlugins is `openclaw plugins` on a memConfig, changing openclaw.json
// as OpenClaw 2026.9.6 does: install adds the folder to plugins.load.paths
// and enables the entry; uninstall removes both but leaves the entry as
// {"enabled": false}.
type fakePlugins struct {
	cfg      *memConfig
	dir      string // linked folder; "" when not installed
	loadErr  string
	installs int
}

func (f *fakePlugins) InstallPlugin(_ context.Context, dir string) error {
	f.installs++
	f.dir = dir
	paths, _ := f.cfg.lookup("plugins.load.paths")
	list, _ := paths.([]any)
	f.cfg.Patch(context.Background(), mustJSON(map[string]any{"plugins": map[string]any{
		"load":    map[string]any{"paths": append(list, dir)},
		"entries": map[string]any{PluginID: map[string]any{"enabled": true}},
	}}))
	return nil
}

func (f *fakePlugins) UninstallPlugin(context.Context, string) error {
	f.dir = ""
	f.cfg.Patch(context.Background(), json.RawMessage(`{"plugins":{"load":null,"entries":{"clawwarden":{"enabled":false}}}}`))
	return nil
}

func (f *fakePlugins) FindPlugin(ctx context.Context, id string) (*openclaw.PluginInfo, error) {
	info, err := f.InspectPlugin(ctx, id)
	if info != nil {
		info.Hooks = nil
	}
	return info, err
}

func (f *fakePlugins) InspectPlugin(context.Context, string) (*openclaw.PluginInfo, error) {
	if f.dir == "" {
		return nil, nil
	}
	info := &openclaw.PluginInfo{ID: PluginID, Status: "loaded", Enabled: true, Activated: true, RootDir: f.dir, Hooks: pluginHooks}
	if f.loadErr != "" {
		info.Status, info.Error, info.Hooks = "error", f.loadErr, nil
	}
	return info, nil
}

func TestPluginInstallUninstall(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, `{"gateway":{"port":19001},"plugins":{"entries":{"codex":{"config":{}}}}}`)
	fp := &fakePlugins{cfg: w.cfg}
	h := w.hook("linux")
	h.Plugins = fp
	before := w.cfg.json(t)

	r, err := h.Install(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerPlugin, Changed) || fp.installs != 1 {
		t.Fatalf("install: %+v, %d installs", r.Steps, fp.installs)
	}
	dir := h.PluginDir()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("plugin folder: %v, %v", fi, err)
	}
	for _, n := range []string{"openclaw.plugin.json", "package.json", "index.mjs", "patterns.json"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", n, fi, err)
		}
	}
	if l, _ := w.status(h).Layer(LayerPlugin); l.State != StateOK || !strings.Contains(l.Detail, "listed as loaded") {
		t.Errorf("plugin status after install: %+v", l)
	}
	// --runtime: the plugin is loaded and its hooks checked.
	h.PluginRuntime = true
	if l, _ := w.status(h).Layer(LayerPlugin); l.State != StateOK || !strings.Contains(l.Detail, "hooks before_tool_call, resolve_exec_env") {
		t.Errorf("plugin status --runtime after install: %+v", l)
	}
	h.PluginRuntime = false

	// Idempotent.
	r, err = h.Install(ctx)
	if err != nil || !r.Has(LayerPlugin, Unchanged) || fp.installs != 1 {
		t.Errorf("second install: %+v, %v, %d installs", r.Steps, err, fp.installs)
	}

	// A plugin that fails to load is reported, and does not decide whether
	// the agent's sudo goes through the shim.
	fp.loadErr = "SyntaxError"
	s := w.status(h)
	if l, _ := s.Layer(LayerPlugin); l.State != StateStale || !strings.Contains(l.Detail, "SyntaxError") {
		t.Errorf("plugin status with a load error: %+v", l)
	}
	fp.loadErr = ""

	r, err = h.Uninstall(ctx)
	if err != nil {
		t.Fatalf("uninstall: %v %+v", err, r.Steps)
	}
	if got := w.cfg.json(t); !jsonEqual([]byte(got), []byte(before)) {
		t.Errorf("openclaw.json after uninstall:\n%s\nwant\n%s", got, before)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("plugin folder still there: %v", err)
	}
	if l, _ := w.status(h).Layer(LayerPlugin); l.State != StateMissing {
		t.Errorf("plugin status after uninstall: %+v", l)
	}
	// Idempotent.
	if _, err := h.Uninstall(ctx); err != nil {
		t.Errorf("second uninstall: %v", err)
	}
}

// TestPluginInstallUninstallRoundTrip: install then uninstall leaves
// openclaw.json as it was: an entry the person had for the id before
// install comes back as it was, and a config without a plugins object gets
// none back.
func TestPluginInstallUninstallRoundTrip(t *testing.T) {
	for _, config := range []string{
		`{"plugins":{"allow":["x"],"entries":{"clawwarden":{"enabled":true,"hooks":{"allowPromptInjection":false}}}}}`,
		`{"gateway":{"port":19001}}`,
	} {
		ctx := context.Background()
		w := newWorld(t, config)
		h := w.hook("linux")
		h.Plugins = &fakePlugins{cfg: w.cfg}
		before := w.cfg.json(t)
		if _, err := h.Install(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Uninstall(ctx); err != nil {
			t.Fatal(err)
		}
		if got := w.cfg.json(t); !jsonEqual([]byte(got), []byte(before)) {
			t.Errorf("openclaw.json after uninstall:\n%s\nwant\n%s", got, before)
		}
	}
}

// TestPluginNotLinkedWithoutOpenClaw: without the openclaw command the
// folder is written, the step says the plugin is not linked, and uninstall
// removes the folder.
func TestPluginNotLinkedWithoutOpenClaw(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "")
	h := w.hook("linux")
	h.Config, h.Plugins = nil, nil
	r, err := h.Install(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerPlugin, Skipped) {
		t.Errorf("install without openclaw: %+v", r.Steps)
	}
	if l, _ := w.status(h).Layer(LayerPlugin); l.State != StateUnknown {
		t.Errorf("status: %+v", l)
	}
	if _, err := h.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(h.PluginDir()); !os.IsNotExist(err) {
		t.Errorf("plugin folder still there: %v", err)
	}
}

// TestPluginStateFromBeforeThePlugin: a state file without the plugin
// record reads, and install adds it.
func TestPluginStateFromBeforeThePlugin(t *testing.T) {
	w := newWorld(t, "")
	h := w.hook("linux")
	w.write(".openclaw/security/hook-state.json", `{"version":1,"installed_at":"2026-11-01T00:00:00Z","binary":"/x"}`+"\n", 0o600)
	st, found, err := loadState(h.StatePath())
	if err != nil || !found || st.Plugin != nil {
		t.Fatalf("loadState: %+v %v %v", st, found, err)
	}
	h.Plugins = &fakePlugins{cfg: w.cfg}
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _, _ = loadState(h.StatePath())
	if st.Plugin == nil || !st.Plugin.Linked {
		t.Errorf("state after install: %+v", st.Plugin)
	}
}

// TestMergeDiff: the merge patch mergeDiff computes turns from into to when
// applied (RFC 7386), and says when it cannot (a null inside to).
func TestMergeDiff(t *testing.T) {
	tests := []struct {
		from, to string
		exact    bool
	}{
		{`{"enabled": false}`, `{"enabled": true, "config": {"a": 1}}`, true},
		{`{"enabled": false, "extra": [1]}`, `{"enabled": true}`, true},
		{`{"paths": ["/a", "/b"]}`, `{"paths": ["/b"]}`, true},
		{`["x"]`, `["x", "y"]`, true},
		{`{"a": {"b": {"c": 1, "d": 2}}}`, `{"a": {"b": {"c": 1}}}`, true},
		{`null`, `{"a": 1}`, true},
		{`{"a": 1}`, `"s"`, true},
		{`{"a": 1}`, `{"a": null}`, false},
	}
	for _, tt := range tests {
		var from, to any
		json.Unmarshal([]byte(tt.from), &from)
		json.Unmarshal([]byte(tt.to), &to)
		patch, exact := mergeDiff(from, to)
		if exact != tt.exact {
			t.Errorf("mergeDiff(%s, %s): exact %v, want %v", tt.from, tt.to, exact, tt.exact)
		}
		if !exact {
			continue
		}
		if got := applyMergePatch(from, patch); !reflect.DeepEqual(got, to) {
			p, _ := json.Marshal(patch)
			g, _ := json.Marshal(got)
			t.Errorf("mergeDiff(%s, %s) = %s, which applied gives %s", tt.from, tt.to, p, g)
		}
	}
}
