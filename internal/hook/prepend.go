package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/quote"
)

// prependSetHint is the command that sets a pathPrepend list by hand.
func prependSetHint(key string, entries []string) string {
	v, _ := json.Marshal(entries)
	return fmt.Sprintf("openclaw config set %s %s --strict-json", key, quote.Word(string(v)))
}

// configUnavailable says why the openclaw command cannot be used.
func (h *Hook) configUnavailable() string {
	if h.ConfigErr != nil {
		return h.ConfigErr.Error()
	}
	return "the openclaw command is not available"
}

// authored reads the config file as written, or nil when it cannot be read
// (then writes fall back to the values as OpenClaw reads them).
func (h *Hook) authored(ctx context.Context) json.RawMessage {
	a, err := h.Config.Authored(ctx)
	if err != nil {
		return nil
	}
	return a
}

func (h *Hook) installPrepend(ctx context.Context, st *State, r *Report) {
	bin := h.Paths.BinDir
	if h.Config == nil {
		r.add(LayerPathPrepend, Skipped, fmt.Sprintf("%s was NOT set: %s", PrependKey, h.configUnavailable()),
			"put the openclaw command on PATH and run 'clawwarden hook install' again, or set it yourself, keeping any existing entries after it: "+
				prependSetHint(PrependKey, []string{bin}))
		return
	}
	authored := h.authored(ctx)
	h.prependOne(ctx, "", authored, st, r)
	agents, ok, err := h.Config.Get(ctx, "agents.entries")
	if err != nil {
		r.add(LayerPathPrepend, Failed, "cannot read per-agent settings: "+err.Error(), "check with: openclaw config get agents.entries")
		return
	}
	if !ok {
		return
	}
	for _, o := range agentOverrides(agents, bin, h.Paths.Home) {
		if !agentID().MatchString(o.id) {
			r.add(LayerPathPrepend, Failed, fmt.Sprintf("agent %q sets its own pathPrepend without %s first, and its id cannot be written as a config path", o.id, bin),
				"add "+bin+" first to that agent's tools.exec.pathPrepend yourself")
			continue
		}
		h.prependOne(ctx, "agents.entries."+o.id+".", authored, st, r)
	}
}

// agentID is an agent id that can be written in a dotted config path.
var agentID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })

type agentOverride struct {
	id      string
	entries []string
}

// agentOverrides lists the agents (from `config get agents.entries`) whose
// own pathPrepend, which replaces the global one, does not start with bin.
func agentOverrides(agents json.RawMessage, bin, home string) []agentOverride {
	var m map[string]json.RawMessage
	if json.Unmarshal(agents, &m) != nil {
		return nil
	}
	var out []agentOverride
	for id, raw := range m {
		var a struct {
			Tools json.RawMessage `json:"tools"`
		}
		if json.Unmarshal(raw, &a) != nil || a.Tools == nil {
			continue
		}
		tv, err := parseTools(a.Tools)
		if err != nil || !tv.prependSet {
			continue
		}
		if !IsFirst(tv.prepend, bin, home) {
			out = append(out, agentOverride{id: id, entries: tv.prepend})
		}
	}
	slices.SortFunc(out, func(a, b agentOverride) int { return strings.Compare(a.id, b.id) })
	return out
}

// toolsView is what matters of a "tools" config object.
type toolsView struct {
	tools       map[string]json.RawMessage
	exec        map[string]json.RawMessage
	execSet     bool
	prependRaw  json.RawMessage
	prepend     []string
	prependSet  bool
	onlyPrepend bool // tools is {"exec":{"pathPrepend":…}} and nothing else
}

func parseTools(raw json.RawMessage) (toolsView, error) {
	var v toolsView
	if err := json.Unmarshal(raw, &v.tools); err != nil {
		return v, fmt.Errorf("tools is not an object: %w", err)
	}
	execRaw, ok := v.tools["exec"]
	if !ok {
		return v, nil
	}
	if err := json.Unmarshal(execRaw, &v.exec); err != nil {
		return v, fmt.Errorf("tools.exec is not an object: %w", err)
	}
	v.execSet = true
	pr, ok := v.exec["pathPrepend"]
	if !ok {
		return v, nil
	}
	if err := json.Unmarshal(pr, &v.prepend); err != nil {
		return v, fmt.Errorf("tools.exec.pathPrepend is not a list of strings: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, pr); err != nil {
		return v, err
	}
	v.prependRaw = compact.Bytes()
	v.prependSet = true
	v.onlyPrepend = len(v.tools) == 1 && len(v.exec) == 1
	return v, nil
}

// readTools reads the "tools" object under base ("" or
// "agents.entries.ID.") as OpenClaw uses it.
func (h *Hook) readTools(ctx context.Context, base string) (toolsView, bool, error) {
	raw, ok, err := h.Config.Get(ctx, base+"tools")
	if err != nil || !ok {
		return toolsView{}, ok, err
	}
	v, err := parseTools(raw)
	if err != nil {
		return v, true, fmt.Errorf("%stools: %w", base, err)
	}
	return v, true, nil
}

// listView is one pathPrepend list and the objects around it: as written in
// openclaw.json when that can be read and agrees with what OpenClaw reads
// (exact), else as OpenClaw reads it.
type listView struct {
	entries    []string
	raw        json.RawMessage // entries as compact JSON; nil when unset
	set        bool
	toolsSet   bool // the tools object around the list exists
	execSet    bool // the tools.exec object exists
	toolsOnly  bool // tools holds nothing but exec.pathPrepend
	execOnly   bool // tools.exec holds nothing but pathPrepend
	exact      bool // entries are the authored value: writes are conditional on it
	runtime    []string
	runtimeSet bool
}

func viewOf(tv toolsView, toolsSet bool) listView {
	return listView{
		entries: tv.prepend, raw: tv.prependRaw, set: tv.prependSet,
		toolsSet: toolsSet, execSet: tv.execSet,
		toolsOnly: tv.onlyPrepend, execOnly: tv.prependSet && len(tv.exec) == 1,
		runtime: tv.prepend, runtimeSet: tv.prependSet,
	}
}

// expect is the condition for writing the list: only if it is still as
// read. Without the authored value the write is unconditional.
func (v listView) expect() openclaw.Expect {
	switch {
	case !v.exact:
		return openclaw.Expect{}
	case !v.set:
		return openclaw.Expect{Absent: true}
	}
	return openclaw.Expect{Value: v.raw}
}

// readList reads the pathPrepend list under base.
func (h *Hook) readList(ctx context.Context, base string, authored json.RawMessage) (listView, error) {
	tv, ok, err := h.readTools(ctx, base)
	if err != nil {
		return listView{}, err
	}
	v := viewOf(tv, ok)
	if authored == nil {
		return v, nil
	}
	raw, found, known := authoredAt(authored, strings.Split(base+"tools", "."))
	if !known {
		return v, nil
	}
	var at toolsView
	if found {
		if at, err = parseTools(raw); err != nil {
			return v, nil
		}
		if _, inc := at.tools["$include"]; inc {
			return v, nil
		}
		if _, inc := at.exec["$include"]; inc {
			return v, nil
		}
	}
	if at.prependSet != tv.prependSet || !sameEntries(at.prepend, tv.prepend, h.Paths.Home) {
		return v, nil // the value comes from somewhere else (an include, a default)
	}
	a := viewOf(at, found)
	a.runtime, a.runtimeSet = tv.prepend, tv.prependSet
	a.exact = true
	return a, nil
}

// authoredAt finds the value at segs in the authored config. known is false
// when an object on the way uses $include, whose files are not read here.
func authoredAt(root json.RawMessage, segs []string) (value json.RawMessage, found, known bool) {
	cur := root
	for _, seg := range segs {
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil {
			return nil, false, true
		}
		if _, inc := obj["$include"]; inc {
			return nil, false, false
		}
		next, ok := obj[seg]
		if !ok {
			return nil, false, true
		}
		cur = next
	}
	return cur, true, true
}

// sameEntries reports whether authored entries are what OpenClaw reads as
// runtime: equal after OpenClaw's expansion of a leading "~". Entries with
// ${VAR} substitutions cannot be compared and are taken as equal.
func sameEntries(authored, runtime []string, home string) bool {
	if len(authored) != len(runtime) {
		return false
	}
	for i, a := range authored {
		if strings.Contains(a, "${") {
			continue
		}
		a = strings.TrimSpace(a)
		switch {
		case a == "~":
			a = home
		case strings.HasPrefix(a, "~/"):
			a = filepath.Join(home, a[2:])
		}
		if filepath.Clean(a) != filepath.Clean(strings.TrimSpace(runtime[i])) {
			return false
		}
	}
	return true
}

// prependOne puts the bin directory first in the pathPrepend list under base.
func (h *Hook) prependOne(ctx context.Context, base string, authored json.RawMessage, st *State, r *Report) {
	bin, home := h.Paths.BinDir, h.Paths.Home
	key := base + PrependKey
	v, err := h.readList(ctx, base, authored)
	if err != nil {
		r.add(LayerPathPrepend, Failed, "cannot read "+key+": "+err.Error(), "check with: openclaw config get "+key)
		return
	}
	if v.runtimeSet && IsFirst(v.runtime, bin, home) {
		r.add(LayerPathPrepend, Unchanged, fmt.Sprintf("%s already starts with %s", key, bin), "")
		return
	}
	next := Prepend(v.entries, bin, home)
	nextRaw, _ := json.Marshal(next)
	if err := h.Config.Set(ctx, key, nextRaw, v.expect()); err != nil {
		r.add(LayerPathPrepend, Failed, fmt.Sprintf("could not set %s: %v", key, err), "set it yourself: "+prependSetHint(key, next))
		return
	}
	rec := PrependRecord{
		Key:           key,
		Previous:      v.raw,
		PreviousUnset: !v.set,
		Exact:         v.exact,
		ToolsExisted:  v.toolsSet,
		ExecExisted:   v.execSet,
		Set:           next,
	}
	if rec.PreviousUnset {
		rec.Previous = json.RawMessage("null")
	}
	st.PathPrepend = slices.DeleteFunc(st.PathPrepend, func(p PrependRecord) bool { return p.Key == key })
	st.PathPrepend = append(st.PathPrepend, rec)
	was := "unset"
	if v.set {
		was = string(v.raw)
	}
	detail := fmt.Sprintf("set %s to %s (was %s) with 'openclaw config set'", key, nextRaw, was)
	if !v.exact {
		detail += "; openclaw.json could not be read as written, so the value OpenClaw reads was used and will be restored"
	}
	r.add(LayerPathPrepend, Changed, detail, "")
}

// restorePrepend puts one pathPrepend list back as it was before install.
func (h *Hook) restorePrepend(ctx context.Context, rec PrependRecord, authored json.RawMessage, r *Report) bool {
	bin, home := h.Paths.BinDir, h.Paths.Home
	var prev bytes.Buffer // the state file stores it indented
	if err := json.Compact(&prev, rec.Previous); err == nil {
		rec.Previous = prev.Bytes()
	}
	undo := "openclaw config unset " + rec.Key
	if !rec.PreviousUnset {
		undo = fmt.Sprintf("openclaw config set %s %s --strict-json", rec.Key, quote.Word(string(rec.Previous)))
	}
	if h.Config == nil {
		r.add(LayerPathPrepend, Failed, fmt.Sprintf("cannot restore %s: %s", rec.Key, h.configUnavailable()),
			"put openclaw on PATH and run 'clawwarden hook uninstall' again, or run: "+undo)
		return false
	}
	base, ok := strings.CutSuffix(rec.Key, PrependKey)
	if !ok {
		r.add(LayerPathPrepend, Failed, fmt.Sprintf("unexpected key %q in %s", rec.Key, h.StatePath()), "run: "+undo)
		return false
	}
	v, err := h.readList(ctx, base, authored)
	if err != nil {
		r.add(LayerPathPrepend, Failed, fmt.Sprintf("cannot read %s: %v", rec.Key, err), "run: "+undo)
		return false
	}
	if !v.set {
		r.add(LayerPathPrepend, Unchanged, rec.Key+" is already unset", "")
		return true
	}
	if slices.Equal(v.entries, rec.Set) {
		if !rec.PreviousUnset {
			if err := h.Config.Set(ctx, rec.Key, rec.Previous, v.expect()); err != nil {
				r.add(LayerPathPrepend, Failed, fmt.Sprintf("could not restore %s: %v", rec.Key, err), "run: "+undo)
				return false
			}
			r.add(LayerPathPrepend, Changed, fmt.Sprintf("restored %s to %s", rec.Key, rec.Previous), "")
			return true
		}
		// Delete as much as install created: the whole tools object when
		// it holds only our list and did not exist before, else tools.exec
		// likewise, else just the list.
		segs := strings.Split(rec.Key, ".")
		cut := len(segs)
		switch {
		case !rec.ToolsExisted && v.toolsOnly:
			cut -= 2
		case !rec.ExecExisted && v.execOnly:
			cut--
		}
		if err := h.Config.Patch(ctx, deletePatch(segs[:cut])); err != nil {
			r.add(LayerPathPrepend, Failed, fmt.Sprintf("could not unset %s: %v", rec.Key, err), "run: "+undo)
			return false
		}
		what := rec.Key
		if cut < len(segs) {
			what = fmt.Sprintf("%s (and %s, which install created)", rec.Key, strings.Join(segs[:cut], "."))
		}
		r.add(LayerPathPrepend, Changed, "unset "+what+": it was unset before install", "")
		return true
	}
	rest := Without(v.entries, bin, home)
	if len(rest) == len(v.entries) {
		r.add(LayerPathPrepend, Unchanged, fmt.Sprintf("%s no longer contains %s; left as it is", rec.Key, bin), "")
		return true
	}
	restRaw, _ := json.Marshal(rest)
	if err := h.Config.Set(ctx, rec.Key, restRaw, v.expect()); err != nil {
		r.add(LayerPathPrepend, Failed, fmt.Sprintf("could not take %s out of %s: %v", bin, rec.Key, err), "run: "+prependSetHint(rec.Key, rest))
		return false
	}
	r.add(LayerPathPrepend, Changed, fmt.Sprintf("took %s out of %s, now %s (it changed since install, so the rest is kept)", bin, rec.Key, restRaw), "")
	return true
}

// deletePatch is the config patch that deletes the value at the dotted path
// segs: {"a":{"b":null}}.
func deletePatch(segs []string) json.RawMessage {
	var v any
	for i := len(segs) - 1; i >= 0; i-- {
		v = map[string]any{segs[i]: v}
	}
	b, _ := json.Marshal(v)
	return b
}
