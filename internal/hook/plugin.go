package hook

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/quote"
	"github.com/clawwarden/clawwarden/internal/safefile"
)

// pluginFiles is clawwarden's plugin for OpenClaw: the manifest, the
// package.json that names its entry, the entry and the patterns it blocks.
//
//go:embed plugin
var pluginFiles embed.FS

// PluginID is the plugin's id in OpenClaw (openclaw.plugin.json, and the key
// of plugins.entries in openclaw.json).
const PluginID = "clawwarden"

// pluginDirName is the plugin's folder in the security directory.
const pluginDirName = "openclaw-plugin"

// pluginHooks are the typed hooks the plugin registers; it is active when
// OpenClaw reports both.
var pluginHooks = []string{"before_tool_call", "resolve_exec_env"}

// pluginConfigKeys are the parts of openclaw.json that `openclaw plugins
// install` and `uninstall` change. Install records them as written before;
// uninstall puts back those that OpenClaw's uninstall leaves different
// (it leaves plugins.entries.clawwarden as {"enabled": false}).
var pluginConfigKeys = []string{"plugins.entries." + PluginID, "plugins.load", "plugins.allow"}

// pluginConfigParents are the objects around pluginConfigKeys, innermost
// first. One that was absent before install and is left empty is removed.
var pluginConfigParents = []string{"plugins.entries", "plugins"}

// PluginManager installs, removes and inspects OpenClaw plugins.
// [openclaw.CLI] implements it with `openclaw plugins`.
type PluginManager interface {
	// InstallPlugin links the plugin folder dir into OpenClaw and enables it.
	InstallPlugin(ctx context.Context, dir string) error
	// UninstallPlugin removes the plugin's install record, load path and
	// settings; the folder stays.
	UninstallPlugin(ctx context.Context, id string) error
	// FindPlugin reports the plugin as OpenClaw lists it, without loading
	// its code (no Hooks); nil when OpenClaw does not know the id.
	FindPlugin(ctx context.Context, id string) (*openclaw.PluginInfo, error)
	// InspectPlugin loads the plugin as the gateway would and reports it,
	// with the hooks it registered; nil when OpenClaw does not know the id.
	InspectPlugin(ctx context.Context, id string) (*openclaw.PluginInfo, error)
}

// PluginRecord is what install did for the plugin.
type PluginRecord struct {
	Dir        string `json:"dir"`
	DirCreated bool   `json:"dir_created"`
	SHA256     string `json:"sha256"` // of the files install wrote, see pluginDigest
	// Linked says install ran `openclaw plugins install --link`, so
	// uninstall runs `openclaw plugins uninstall`.
	Linked bool `json:"linked"`
	// Config holds the authored values of pluginConfigKeys before the
	// plugin was linked: the key maps to its JSON value, or to null when it
	// was absent.
	Config map[string]json.RawMessage `json:"config_before,omitempty"`
}

// pluginContent returns the plugin's files by name.
func pluginContent() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(pluginFiles, "plugin", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pluginFiles.ReadFile(p)
		out[path.Base(p)] = b
		return err
	})
	return out, err
}

// pluginDigest hashes the files by name, in name order.
func pluginDigest(files map[string][]byte) string {
	var b bytes.Buffer
	for _, n := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&b, "%s\x00%s\x00", n, digest(files[n]))
	}
	return digest(b.Bytes())
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// PluginDir is where install writes the plugin.
func (h *Hook) PluginDir() string { return h.Paths.Security(pluginDirName) }

// installPlugin writes the plugin's folder and links it into OpenClaw. What
// OpenClaw cannot do is reported, not returned: the plugin is defence in
// depth, and the shim works without it.
func (h *Hook) installPlugin(ctx context.Context, st *State, r *Report) error {
	dir := h.PluginDir()
	files, err := pluginContent()
	if err != nil {
		return err
	}
	_, err = os.Lstat(dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err := safefile.EnsureDir(dir); err != nil {
		return err
	}
	rec := st.Plugin
	if rec == nil {
		rec = &PluginRecord{Dir: dir, DirCreated: created}
		st.Plugin = rec
	}
	wrote := false
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, name)
		old, err := safefile.ReadFile(p)
		if err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := safefile.WriteFile(p, files[name]); err != nil {
			return err
		}
		wrote = true
	}
	rec.SHA256 = pluginDigest(files)
	if h.Plugins == nil {
		r.add(LayerPlugin, Skipped, fmt.Sprintf("wrote %s but did NOT link it into OpenClaw: %s", dir, h.configUnavailable()),
			"put the openclaw command on PATH and run 'clawwarden hook install' again")
		return nil
	}
	info, err := h.Plugins.FindPlugin(ctx, PluginID)
	if err != nil {
		r.add(LayerPlugin, Failed, "cannot ask OpenClaw about the plugin: "+err.Error(), "check with: openclaw plugins list --json")
		return nil
	}
	switch {
	case info != nil && sameDir(info.RootDir, dir, h.Paths.Home) && info.Enabled:
		rec.Linked = true // ours, whoever linked it: uninstall unlinks it
		detail := fmt.Sprintf("plugin %s is already linked from %s", PluginID, dir)
		if wrote {
			detail = fmt.Sprintf("updated the plugin in %s (already linked)", dir)
			r.Restart = appendOnce(r.Restart, "openclaw plugins reload "+PluginID)
			r.add(LayerPlugin, Changed, detail, "")
		} else {
			r.add(LayerPlugin, Unchanged, detail, "")
		}
		return nil
	case info != nil && !sameDir(info.RootDir, dir, h.Paths.Home):
		r.add(LayerPlugin, Failed, fmt.Sprintf("OpenClaw already has a plugin %q from %s, not clawwarden's %s; left alone", PluginID, info.RootDir, dir),
			"if it is an old copy of clawwarden's plugin: openclaw plugins uninstall "+PluginID+" --force, then 'clawwarden hook install' again")
		return nil
	}
	if !rec.Linked && rec.Config == nil && h.Config != nil {
		before, err := h.pluginConfig(ctx)
		if err != nil {
			r.add(LayerPlugin, Failed, "cannot read openclaw.json before linking the plugin: "+err.Error(), "")
			return nil
		}
		rec.Config = before
	}
	if err := h.Plugins.InstallPlugin(ctx, dir); err != nil {
		r.add(LayerPlugin, Failed, "could not link the plugin into OpenClaw: "+err.Error(),
			"run it yourself: openclaw plugins install --link --force --accept-capabilities "+quote.Word(dir))
		return nil
	}
	rec.Linked = true
	r.add(LayerPlugin, Changed, fmt.Sprintf("wrote %s and linked it into OpenClaw as plugin %s (openclaw plugins install --link, accepting its hooks before_tool_call and resolve_exec_env)", dir, PluginID), "")
	r.Restart = appendOnce(r.Restart, h.gatewayRestartHint())
	return nil
}

// gatewayRestartHint is how a running gateway picks the plugin up.
func (h *Hook) gatewayRestartHint() string {
	if h.Service != nil {
		return h.Service.RestartCommand()
	}
	return "openclaw gateway restart"
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// pluginConfig reads the authored values of pluginConfigKeys; absent keys
// map to null.
func (h *Hook) pluginConfig(ctx context.Context) (map[string]json.RawMessage, error) {
	authored, err := h.Config.Authored(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, k := range slices.Concat(pluginConfigKeys, pluginConfigParents) {
		v, found, known := authoredAt(authored, strings.Split(k, "."))
		if !known {
			return nil, fmt.Errorf("%s is under an $include, which clawwarden does not follow", k)
		}
		if !found {
			v = json.RawMessage("null")
		}
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			return nil, err
		}
		out[k] = c.Bytes()
	}
	return out, nil
}

// removePlugin unlinks the plugin from OpenClaw, puts back the parts of
// openclaw.json it changed, and removes the folder. It reports false when
// something is left to undo.
func (h *Hook) removePlugin(ctx context.Context, rec *PluginRecord, r *Report) bool {
	if rec.Linked {
		if h.Plugins == nil {
			r.add(LayerPlugin, Failed, "cannot unlink plugin "+PluginID+" from OpenClaw: "+h.configUnavailable(),
				"put the openclaw command on PATH and run 'clawwarden hook uninstall' again, or: openclaw plugins uninstall "+PluginID+" --force")
			return false
		}
		info, err := h.Plugins.FindPlugin(ctx, PluginID)
		if err != nil {
			r.add(LayerPlugin, Failed, "cannot ask OpenClaw about the plugin: "+err.Error(), "run 'clawwarden hook uninstall' again")
			return false
		}
		switch {
		case info == nil:
			r.add(LayerPlugin, Unchanged, "OpenClaw no longer has plugin "+PluginID, "")
		case !sameDir(info.RootDir, rec.Dir, h.Paths.Home):
			r.add(LayerPlugin, Skipped, fmt.Sprintf("OpenClaw's plugin %q now comes from %s, not from clawwarden's %s; left installed", PluginID, info.RootDir, rec.Dir), "")
		default:
			if err := h.Plugins.UninstallPlugin(ctx, PluginID); err != nil {
				r.add(LayerPlugin, Failed, "could not unlink the plugin: "+err.Error(), "run it yourself: openclaw plugins uninstall "+PluginID+" --force")
				return false
			}
			r.add(LayerPlugin, Changed, "unlinked plugin "+PluginID+" from OpenClaw (openclaw plugins uninstall)", "")
			r.Restart = appendOnce(r.Restart, h.gatewayRestartHint())
		}
		rec.Linked = false
	}
	if rec.Config != nil {
		if !h.restorePluginConfig(ctx, rec, r) {
			return false
		}
		rec.Config = nil
	}
	if err := h.removePluginDir(rec, r); err != nil {
		r.add(LayerPlugin, Failed, err.Error(), "remove it yourself: rm -r "+quote.Word(rec.Dir))
		return false
	}
	return true
}

// restorePluginConfig puts back the recorded values of pluginConfigKeys
// that differ now, and removes a parent in pluginConfigParents that was
// absent before install and would be left empty. It reads openclaw.json
// once and writes it once, with one merge patch (RFC 7386) computed here:
// every openclaw command is a Node start of seconds.
func (h *Hook) restorePluginConfig(ctx context.Context, rec *PluginRecord, r *Report) bool {
	if h.Config == nil {
		r.add(LayerPlugin, Failed, "cannot restore the plugin settings in openclaw.json: "+h.configUnavailable(), "run 'clawwarden hook uninstall' again with openclaw on PATH")
		return false
	}
	authored, err := h.Config.Authored(ctx)
	if err != nil {
		r.add(LayerPlugin, Failed, "cannot read openclaw.json: "+err.Error(), "run 'clawwarden hook uninstall' again")
		return false
	}
	var doc any
	if err := json.Unmarshal(authored, &doc); err != nil {
		r.add(LayerPlugin, Failed, "cannot read openclaw.json: "+err.Error(), "run 'clawwarden hook uninstall' again")
		return false
	}
	patch := map[string]any{}
	var done []string
	for _, k := range pluginConfigKeys {
		before, ok := rec.Config[k]
		if !ok {
			continue
		}
		segs := strings.Split(k, ".")
		now, found, known := authoredAt(authored, segs)
		if !known {
			r.add(LayerPlugin, Failed, k+" is under an $include, which clawwarden does not follow", "put it back yourself: "+string(before))
			return false
		}
		if !found {
			now = json.RawMessage("null")
		}
		if sameJSON(before, now) {
			continue
		}
		var b, n any
		if err := json.Unmarshal(before, &b); err != nil {
			r.add(LayerPlugin, Failed, fmt.Sprintf("recorded value of %s: %v", k, err), "")
			return false
		}
		json.Unmarshal(now, &n)
		d, exact := mergeDiff(n, b)
		if !exact {
			r.add(LayerPlugin, Failed, fmt.Sprintf("the recorded value of %s holds a null, which a config patch cannot write", k), "put it back yourself: "+string(before))
			return false
		}
		setAt(patch, segs, d)
		what := "removed " + k
		if b != nil {
			what = fmt.Sprintf("set %s back to %s", k, before)
		}
		done = append(done, what+" in openclaw.json, as before install")
	}
	after := applyMergePatch(doc, patch)
	for _, k := range pluginConfigParents {
		before, ok := rec.Config[k]
		if !ok || string(before) != "null" {
			continue
		}
		segs := strings.Split(k, ".")
		if v, found := valueAt(after, segs); !found || !isEmptyObject(v) {
			continue
		}
		setAt(patch, segs, nil)
		after = applyMergePatch(doc, patch)
		done = append(done, "removed the empty "+k+" in openclaw.json, absent before install")
	}
	if len(done) == 0 {
		return true
	}
	data, err := json.Marshal(patch)
	if err != nil {
		r.add(LayerPlugin, Failed, err.Error(), "")
		return false
	}
	if err := h.Config.Patch(ctx, data); err != nil {
		r.add(LayerPlugin, Failed, "could not restore the plugin settings in openclaw.json: "+err.Error(), "")
		return false
	}
	for _, what := range done {
		r.add(LayerPlugin, Changed, what, "")
	}
	return true
}

// mergeDiff returns the merge patch (RFC 7386) that turns from into to;
// exact is false when to holds a null inside an object, which a merge
// patch cannot write.
func mergeDiff(from, to any) (patch any, exact bool) {
	tm, toObj := to.(map[string]any)
	fm, fromObj := from.(map[string]any)
	if !toObj {
		return to, true
	}
	if !fromObj {
		fm = map[string]any{}
	}
	out := map[string]any{}
	exact = true
	for k := range fm {
		if _, keep := tm[k]; !keep {
			out[k] = nil
		}
	}
	for k, tv := range tm {
		if tv == nil {
			exact = false
			continue
		}
		if fv, ok := fm[k]; ok && reflect.DeepEqual(fv, tv) {
			continue
		}
		d, ok := mergeDiff(fm[k], tv)
		exact = exact && ok
		out[k] = d
	}
	return out, exact
}

// applyMergePatch applies a merge patch (RFC 7386) to a copy of target.
func applyMergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	out := map[string]any{}
	if ok {
		for k, v := range tm {
			out[k] = v
		}
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = applyMergePatch(out[k], v)
	}
	return out
}

// setAt sets the value at segs in the nested patch, creating objects on
// the way; a null set higher up is replaced.
func setAt(patch map[string]any, segs []string, v any) {
	cur := patch
	for _, seg := range segs[:len(segs)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[seg] = next
		}
		cur = next
	}
	cur[segs[len(segs)-1]] = v
}

// valueAt returns the value at segs in a decoded document.
func valueAt(doc any, segs []string) (any, bool) {
	for _, seg := range segs {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return doc, true
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// removePluginDir removes the files install wrote and, if install created
// it, the folder. A file that changed since is kept.
func (h *Hook) removePluginDir(rec *PluginRecord, r *Report) error {
	files, err := pluginContent()
	if err != nil {
		return err
	}
	if err := safefile.CheckDir(rec.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var kept []string
	for name, want := range files {
		p := filepath.Join(rec.Dir, name)
		got, err := safefile.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		case !bytes.Equal(got, want):
			kept = append(kept, p)
		default:
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	if len(kept) > 0 {
		slices.Sort(kept)
		r.add(LayerPlugin, Skipped, "changed since clawwarden wrote them, left in place: "+strings.Join(kept, ", "), "remove them yourself if they are not wanted")
		return nil
	}
	if rec.DirCreated {
		removeEmptyDir(rec.Dir)
	}
	r.add(LayerPlugin, Changed, "removed the plugin's files from "+rec.Dir, "")
	return nil
}

// pluginStatus asks OpenClaw whether the plugin is installed from
// clawwarden's folder, enabled, loaded and has registered its hooks.
func (h *Hook) pluginStatus(ctx context.Context) LayerStatus {
	l := LayerStatus{Layer: LayerPlugin}
	dir := h.PluginDir()
	if h.Plugins == nil {
		l.State, l.Detail = StateUnknown, "cannot ask OpenClaw about plugin "+PluginID+": "+h.configUnavailable()
		return l
	}
	// The list answers in seconds but does not run the plugin's code; with
	// PluginRuntime a plugin that is there is loaded (tens of seconds) to
	// see the hooks it registers.
	info, err := h.Plugins.FindPlugin(ctx, PluginID)
	listed := true
	if h.PluginRuntime && err == nil && info != nil && sameDir(info.RootDir, dir, h.Paths.Home) && info.Enabled {
		info, err = h.Plugins.InspectPlugin(ctx, PluginID)
		listed = false
	}
	switch {
	case err != nil:
		l.State, l.Detail = StateUnknown, "cannot ask OpenClaw about plugin "+PluginID+": "+err.Error()
	case info == nil:
		l.State, l.Detail, l.Fix = StateMissing, "OpenClaw has no plugin "+PluginID+" (openclaw plugins list)", "clawwarden hook install"
	case !sameDir(info.RootDir, dir, h.Paths.Home):
		l.State, l.Detail, l.Fix = StateStale, fmt.Sprintf("OpenClaw's plugin %s comes from %s, not from %s", PluginID, info.RootDir, dir), "clawwarden hook install"
	case !info.Enabled:
		l.State, l.Detail, l.Fix = StateStale, "plugin "+PluginID+" is installed but disabled", "openclaw plugins enable "+PluginID
	case info.Status != "loaded":
		l.State, l.Detail, l.Fix = StateStale, fmt.Sprintf("plugin %s does not load: %s %s", PluginID, info.Status, info.Error), "clawwarden hook install"
	case listed:
		l.State, l.Detail = StateOK, fmt.Sprintf("plugin %s from %s is enabled and listed as loaded (openclaw plugins list; 'clawwarden hook status --runtime' loads it and checks its hooks)", PluginID, dir)
	default:
		var missing []string
		for _, hk := range pluginHooks {
			if !slices.Contains(info.Hooks, hk) {
				missing = append(missing, hk)
			}
		}
		if len(missing) > 0 {
			l.State, l.Detail, l.Fix = StateStale, fmt.Sprintf("plugin %s loads but did not register %s", PluginID, strings.Join(missing, ", ")), "clawwarden hook install"
			return l
		}
		l.State, l.Detail = StateOK, fmt.Sprintf("plugin %s from %s is loaded and active (hooks %s)", PluginID, dir, strings.Join(info.Hooks, ", "))
	}
	return l
}
