package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/config"
	"github.com/clawwarden/clawwarden/internal/openclaw"
	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// memConfig is an in-memory openclaw.json with the semantics of `openclaw
// config get/set/patch` that the hook relies on: unset paths, Get expanding
// a leading "~" in pathPrepend lists, conditional set against the authored
// value, and merge patches where null deletes. The real CLI is exercised by
// internal/e2e/openclaw_hook_test.go.
type memConfig struct {
	doc         map[string]any
	home        string
	writes      int
	authoredErr error // Authored fails, as when openclaw.json cannot be read
}

func newMemConfig(t *testing.T, doc string) *memConfig {
	t.Helper()
	m := &memConfig{doc: map[string]any{}}
	if doc != "" {
		if err := json.Unmarshal([]byte(doc), &m.doc); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *memConfig) lookup(path string) (any, bool) {
	var cur any = m.doc
	for _, seg := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (m *memConfig) Get(_ context.Context, path string) (json.RawMessage, bool, error) {
	v, ok := m.lookup(path)
	if !ok {
		return nil, false, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	// OpenClaw expands a leading "~" in pathPrepend entries when it reads
	// the config.
	var n any
	json.Unmarshal(b, &n)
	return mustJSON(expandTildes(n, "", m.home)), true, nil
}

func expandTildes(v any, key, home string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = expandTildes(c, k, home)
		}
	case []any:
		for i, c := range x {
			if s, ok := c.(string); ok && key == "pathPrepend" && strings.HasPrefix(s, "~/") {
				x[i] = home + s[1:]
			}
		}
	}
	return v
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (m *memConfig) Authored(context.Context) (json.RawMessage, error) {
	if m.authoredErr != nil {
		return nil, m.authoredErr
	}
	return json.Marshal(m.doc)
}

func (m *memConfig) Set(_ context.Context, path string, value json.RawMessage, cond openclaw.Expect) error {
	cur, ok := m.lookup(path)
	if cond.Absent && ok {
		return errors.New("expectation failed: path is set")
	}
	if cond.Value != nil {
		b, _ := json.Marshal(cur)
		if !ok || !jsonEqual(b, cond.Value) {
			return errors.New("expectation failed: value differs")
		}
	}
	var v any
	if err := json.Unmarshal(value, &v); err != nil {
		return err
	}
	segs := strings.Split(path, ".")
	obj := m.doc
	for _, s := range segs[:len(segs)-1] {
		next, ok := obj[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[s] = next
		}
		obj = next
	}
	obj[segs[len(segs)-1]] = v
	m.writes++
	return nil
}

func (m *memConfig) Patch(_ context.Context, patch json.RawMessage) error {
	var p map[string]any
	if err := json.Unmarshal(patch, &p); err != nil {
		return err
	}
	mergePatch(m.doc, p)
	m.writes++
	return nil
}

func mergePatch(dst, p map[string]any) {
	for k, v := range p {
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			d, ok := dst[k].(map[string]any)
			if !ok {
				d = map[string]any{}
				dst[k] = d
			}
			mergePatch(d, pv)
		default:
			dst[k] = v
		}
	}
}

func (m *memConfig) json(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(m.doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// fakeService stands in for systemctl/launchctl, which CI containers lack.
type fakeService struct {
	reloads int
	started time.Time
	running bool
	err     error
}

func (s *fakeService) Reload(context.Context) error { s.reloads++; return nil }
func (s *fakeService) StartedAt(context.Context) (time.Time, bool, error) {
	return s.started, s.running, s.err
}
func (s *fakeService) RestartCommand() string { return "restart-the-gateway" }

// world is one user's home with a clawwarden binary to point the shim at.
type world struct {
	t      *testing.T
	home   string
	bin    string
	paths  config.Paths
	cfg    *memConfig
	svc    *fakeService
	now    time.Time
	env    map[string]string
	asked  []string
	answer bool
}

func newWorld(t *testing.T, configJSON string) *world {
	t.Helper()
	base := t.TempDir()
	w := &world{t: t, home: filepath.Join(base, "home"), cfg: newMemConfig(t, configJSON), svc: &fakeService{}, env: map[string]string{}, answer: true}
	if err := os.MkdirAll(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	w.bin = filepath.Join(base, "clawwarden")
	if err := os.WriteFile(w.bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.env["HOME"] = w.home
	w.cfg.home = w.home
	var err error
	w.paths, err = config.Locate(func(k string) string { return w.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	w.now = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	return w
}

func (w *world) hook(goos string) *Hook {
	return &Hook{
		Paths:   w.paths,
		Binary:  w.bin,
		GOOS:    goos,
		Getenv:  func(k string) string { return w.env[k] },
		Config:  w.cfg,
		Service: w.svc,
		Confirm: func(q string) (bool, error) {
			w.asked = append(w.asked, q)
			return w.answer, nil
		},
		Now: func() time.Time { return w.now },
	}
}

func (w *world) write(rel, content string, mode os.FileMode) string {
	w.t.Helper()
	p := filepath.Join(w.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) status(h *Hook) *Status {
	w.t.Helper()
	s, err := h.Status(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func layerState(t *testing.T, s *Status, layer string) string {
	t.Helper()
	l, ok := s.Layer(layer)
	if !ok {
		t.Fatalf("no layer %s in %+v", layer, s.Layers)
	}
	return l.State
}

// TestInstallUninstallRestoresConfig: uninstall leaves openclaw.json as it
// was, for every shape the pathPrepend surroundings can have.
func TestInstallUninstallRestoresConfig(t *testing.T) {
	tests := []struct {
		name   string
		config string
		after  func(bin string) string // config after install
	}{
		{"empty config", `{}`, func(bin string) string { return `{"tools":{"exec":{"pathPrepend":["` + bin + `"]}}}` }},
		{"other tools settings", `{"tools":{"web":{"enabled":true}}}`, func(bin string) string {
			return `{"tools":{"web":{"enabled":true},"exec":{"pathPrepend":["` + bin + `"]}}}`
		}},
		{"other exec settings", `{"tools":{"exec":{"timeoutSeconds":60}}}`, func(bin string) string {
			return `{"tools":{"exec":{"timeoutSeconds":60,"pathPrepend":["` + bin + `"]}}}`
		}},
		{"empty exec object", `{"tools":{"exec":{}}}`, func(bin string) string { return `{"tools":{"exec":{"pathPrepend":["` + bin + `"]}}}` }},
		{"existing entries", `{"tools":{"exec":{"pathPrepend":["/opt/x","~/bin"]}},"gateway":{"port":18789}}`, func(bin string) string {
			return `{"tools":{"exec":{"pathPrepend":["` + bin + `","/opt/x","~/bin"]}},"gateway":{"port":18789}}`
		}},
		{"empty list", `{"tools":{"exec":{"pathPrepend":[]}}}`, func(bin string) string { return `{"tools":{"exec":{"pathPrepend":["` + bin + `"]}}}` }},
		{"ours later in the list", `{"tools":{"exec":{"pathPrepend":["/opt/x","~/.openclaw/bin"]}}}`, func(bin string) string {
			return `{"tools":{"exec":{"pathPrepend":["` + bin + `","/opt/x"]}}}`
		}},
		{"tilde entries kept as written", `{"tools":{"exec":{"pathPrepend":["~/bin","${TOOLS}/bin"]}}}`, func(bin string) string {
			return `{"tools":{"exec":{"pathPrepend":["` + bin + `","~/bin","${TOOLS}/bin"]}}}`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.config)
			before := w.cfg.json(t)
			h := w.hook("linux")
			r, err := h.Install(context.Background())
			if err != nil {
				t.Fatalf("install: %v (%+v)", err, r)
			}
			if got, want := w.cfg.json(t), tt.after(w.paths.BinDir); !jsonEqual([]byte(got), []byte(want)) {
				t.Errorf("config after install = %s, want %s", got, want)
			}
			w.checkShims(h, w.bin)
			if s := w.status(h); !s.Effective {
				t.Errorf("status after install not effective: %+v", s.Layers)
			}
			// Idempotent: a second install writes nothing.
			writes := w.cfg.writes
			stateBefore, _ := os.ReadFile(h.StatePath())
			if _, err := h.Install(context.Background()); err != nil {
				t.Fatal(err)
			}
			if w.cfg.writes != writes {
				t.Errorf("second install wrote the config %d more time(s)", w.cfg.writes-writes)
			}
			stateAfter, _ := os.ReadFile(h.StatePath())
			if !bytes.Equal(stateBefore, stateAfter) {
				t.Errorf("second install changed the state:\n%s\n%s", stateBefore, stateAfter)
			}

			r, err = h.Uninstall(context.Background())
			if err != nil {
				t.Fatalf("uninstall: %v (%+v)", err, r)
			}
			for _, s := range r.Steps {
				if strings.Contains(s.Detail, "\n") {
					t.Errorf("step detail spans lines: %q", s.Detail)
				}
			}
			if got := w.cfg.json(t); !jsonEqual([]byte(got), []byte(before)) {
				t.Errorf("config after uninstall = %s, want %s", got, before)
			}
			for _, p := range []string{w.paths.Shim(), w.paths.SudoeditShim()} {
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Errorf("%s still there after uninstall: %v", p, err)
				}
			}
			if _, err := os.Lstat(h.StatePath()); !os.IsNotExist(err) {
				t.Errorf("state file still there after uninstall: %v", err)
			}
			if _, err := os.Lstat(w.paths.BinDir); !os.IsNotExist(err) {
				t.Errorf("bin dir created by install still there: %v", err)
			}
			if s := w.status(h); s.Effective {
				t.Errorf("status after uninstall effective: %+v", s.Layers)
			}
		})
	}
}

// TestWithoutAuthoredConfig: when openclaw.json cannot be read as written,
// install works from the value OpenClaw reads ("~" expanded) and writes
// unconditionally, and uninstall puts that value back.
func TestWithoutAuthoredConfig(t *testing.T) {
	w := newWorld(t, `{"tools":{"exec":{"pathPrepend":["~/bin"]}}}`)
	w.cfg.authoredErr = errors.New("cannot read openclaw.json")
	h := w.hook("linux")
	r, err := h.Install(context.Background())
	if err != nil || !r.Has(LayerPathPrepend, Changed) {
		t.Fatalf("install: %v %+v", err, r.Steps)
	}
	want := `{"tools":{"exec":{"pathPrepend":["` + w.paths.BinDir + `","` + w.home + `/bin"]}}}`
	if got := w.cfg.json(t); got != want {
		t.Errorf("config = %s, want %s", got, want)
	}
	st, _, _ := loadState(h.StatePath())
	if st.PathPrepend[0].Exact {
		t.Error("record claims the exact authored value")
	}
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := w.cfg.json(t), `{"tools":{"exec":{"pathPrepend":["`+w.home+`/bin"]}}}`; got != want {
		t.Errorf("config after uninstall = %s, want %s", got, want)
	}
}

// TestUninstallKeepsLaterChanges: when pathPrepend changed after install,
// uninstall takes out only the shim's directory.
func TestUninstallKeepsLaterChanges(t *testing.T) {
	w := newWorld(t, `{}`)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.cfg.doc["tools"].(map[string]any)["exec"].(map[string]any)["pathPrepend"] = []any{w.paths.BinDir, "/added/later"}
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := w.cfg.json(t), `{"tools":{"exec":{"pathPrepend":["/added/later"]}}}`; got != want {
		t.Errorf("config = %s, want %s", got, want)
	}
}

func TestAgentOverridesAreUpdatedAndRestored(t *testing.T) {
	const cfg = `{"agents":{"entries":{"main":{},"ops":{"tools":{"exec":{"pathPrepend":["/ops/bin"]}}}}}}`
	w := newWorld(t, cfg)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	ops, _ := w.cfg.lookup("agents.entries.ops.tools.exec.pathPrepend")
	if !reflect.DeepEqual(ops, []any{w.paths.BinDir, "/ops/bin"}) {
		t.Errorf("ops pathPrepend = %v", ops)
	}
	if s := w.status(h); layerState(t, s, LayerPathPrepend) != StateOK || !s.Effective {
		t.Errorf("status: %+v", s.Layers)
	}
	// An agent override added later makes the layer partial.
	w.cfg.doc["agents"].(map[string]any)["entries"].(map[string]any)["main"] = map[string]any{"tools": map[string]any{"exec": map[string]any{"pathPrepend": []any{"/x"}}}}
	if s := w.status(h); layerState(t, s, LayerPathPrepend) != StatePartial || s.Effective {
		t.Errorf("status with a new override: %+v", s.Layers)
	}
	w.cfg.doc["agents"].(map[string]any)["entries"].(map[string]any)["main"] = map[string]any{}
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.cfg.json(t); !jsonEqual([]byte(got), []byte(cfg)) {
		t.Errorf("config after uninstall = %s, want %s", got, cfg)
	}
}

func TestInstallWithoutOpenClawCLI(t *testing.T) {
	w := newWorld(t, "")
	h := w.hook("linux")
	h.Config, h.ConfigErr = nil, openclaw.ErrNoCLI
	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerPathPrepend, Skipped) || !r.Has(LayerShim, Changed) {
		t.Errorf("steps: %+v", r.Steps)
	}
	var hint string
	for _, s := range r.Steps {
		if s.Layer == LayerPathPrepend {
			hint = s.Hint
		}
	}
	if !strings.Contains(hint, "openclaw config set tools.exec.pathPrepend '[\""+w.paths.BinDir+"\"]' --strict-json") {
		t.Errorf("hint does not give the command: %q", hint)
	}
	s := w.status(h)
	if s.Effective || layerState(t, s, LayerPathPrepend) != StateUnknown {
		t.Errorf("status: %+v", s.Layers)
	}
}

// TestInstallRefusals: targets that clawwarden did not create are never
// replaced, and the refusal wraps safefile.ErrUnsafe (exit status 12).
func TestInstallRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world)
	}{
		{"shim is a regular file", func(w *world) { w.write(".openclaw/bin/sudo", "#!/bin/sh\nexec python3 guard.py \"$@\"\n", 0o755) }},
		{"shim is a symlink clawwarden did not create", func(w *world) {
			os.MkdirAll(w.paths.BinDir, 0o700)
			os.Symlink("/usr/bin/sudo", w.paths.Shim())
		}},
		{"sudoedit is a regular file", func(w *world) { w.write(".openclaw/bin/sudoedit", "#!/bin/sh\nexec /usr/bin/sudoedit \"$@\"\n", 0o755) }},
		{"sudoedit is a symlink clawwarden did not create", func(w *world) {
			os.MkdirAll(w.paths.BinDir, 0o700)
			os.Symlink("/usr/bin/sudoedit", w.paths.SudoeditShim())
		}},
		{"sudoedit owned by another user", func(w *world) {
			if os.Geteuid() != 0 {
				testenv.Skip(w.t, "needs root to give a file to another user")
			}
			os.MkdirAll(w.paths.BinDir, 0o700)
			os.Symlink(w.bin, w.paths.SudoeditShim())
			if err := os.Lchown(w.paths.SudoeditShim(), 54321, 54321); err != nil {
				w.t.Fatal(err)
			}
		}},
		{"bin dir is a symlink", func(w *world) {
			os.MkdirAll(w.paths.StateDir, 0o700)
			os.Symlink(w.t.TempDir(), w.paths.BinDir)
		}},
		{"bin dir is writable by others", func(w *world) {
			os.MkdirAll(w.paths.BinDir, 0o700)
			os.Chmod(w.paths.BinDir, 0o777)
		}},
		{"foreign drop-in", func(w *world) {
			w.write(".config/systemd/user/openclaw-gateway.service", "[Service]\nExecStart=/bin/true\n", 0o600)
			w.write(".config/systemd/user/openclaw-gateway.service.d/"+DropInName, "[Service]\nEnvironment=PATH=/mine\n", 0o600)
		}},
		{"shim owned by another user", func(w *world) {
			if os.Geteuid() != 0 {
				testenv.Skip(w.t, "needs root to give a file to another user")
			}
			os.MkdirAll(w.paths.BinDir, 0o700)
			os.Symlink(w.bin, w.paths.Shim())
			if err := os.Lchown(w.paths.Shim(), 54321, 54321); err != nil {
				w.t.Fatal(err)
			}
		}},
		{"drop-in directory owned by another user", func(w *world) {
			if os.Geteuid() != 0 {
				testenv.Skip(w.t, "needs root to give a file to another user")
			}
			w.write(".config/systemd/user/openclaw-gateway.service", "[Service]\nExecStart=/bin/true\n", 0o600)
			d := filepath.Join(w.home, ".config/systemd/user/openclaw-gateway.service.d")
			os.Mkdir(d, 0o755)
			if err := os.Chown(d, 54321, 54321); err != nil {
				w.t.Fatal(err)
			}
		}},
		{"binary writable by others", func(w *world) { os.Chmod(w.bin, 0o757) }},
		{"binary's directory writable by others", func(w *world) { os.Chmod(filepath.Dir(w.bin), 0o777) }},
		{"state file is a symlink", func(w *world) {
			os.MkdirAll(w.paths.SecurityDir, 0o700)
			target := filepath.Join(w.t.TempDir(), "elsewhere.json")
			os.WriteFile(target, []byte(`{"version":1}`), 0o600)
			os.Symlink(target, filepath.Join(w.paths.SecurityDir, StateFile))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, `{}`)
			tt.setup(w)
			_, err := w.hook("linux").Install(context.Background())
			if !errors.Is(err, safefile.ErrUnsafe) {
				t.Fatalf("install error = %v, want one wrapping safefile.ErrUnsafe", err)
			}
		})
	}
}

func TestInstallRefusesCorruptState(t *testing.T) {
	w := newWorld(t, `{}`)
	w.write(".openclaw/security/"+StateFile, "{not json", 0o600)
	os.Chmod(w.paths.SecurityDir, 0o700)
	os.Chmod(w.paths.StateDir, 0o700)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); !errors.Is(err, safefile.ErrInvalid) {
		t.Errorf("install error = %v, want safefile.ErrInvalid", err)
	}
	if _, err := h.Status(context.Background()); !errors.Is(err, safefile.ErrInvalid) {
		t.Errorf("status error = %v, want safefile.ErrInvalid", err)
	}
}

// TestShimFollowsBinaryUpgrade: a shim clawwarden recorded is repointed at a
// new binary; status reports a shim pointing at another binary as stale.
func TestShimFollowsBinaryUpgrade(t *testing.T) {
	w := newWorld(t, `{}`)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	newBin := filepath.Join(t.TempDir(), "clawwarden")
	os.WriteFile(newBin, []byte("#!/bin/sh\n"), 0o755)
	h2 := w.hook("linux")
	h2.Binary = newBin
	if s := w.status(h2); layerState(t, s, LayerShim) != StateStale || layerState(t, s, LayerSudoedit) != StateStale || s.Effective {
		t.Errorf("status with the old shim: %+v", s.Layers)
	}
	r, err := h2.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerShim, Changed) {
		t.Errorf("steps: %+v", r.Steps)
	}
	if !r.Has(LayerSudoedit, Changed) {
		t.Errorf("sudoedit shim not repointed: %+v", r.Steps)
	}
	w.checkShims(h2, newBin)
	if s := w.status(h2); !s.Effective {
		t.Errorf("status after upgrade: %+v", s.Layers)
	}
}

const gatewayUnit = `[Service]
ExecStart=/bin/true gateway --port 18789
Environment=PATH=/usr/local/bin:/usr/bin:/bin
`

func TestSystemdDropIn(t *testing.T) {
	w := newWorld(t, "")
	unitFile := w.write(".config/systemd/user/openclaw-gateway.service", gatewayUnit, 0o644)
	h := w.hook("linux")
	h.Config, h.ConfigErr = nil, openclaw.ErrNoCLI // only the service layer
	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerSystemd, Changed) || w.svc.reloads != 1 || len(r.Restart) != 1 {
		t.Errorf("install: steps %+v, reloads %d, restart %q", r.Steps, w.svc.reloads, r.Restart)
	}
	dropIn := filepath.Join(unitFile+".d", DropInName)
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := dropInPATH(string(data), w.home); p != w.paths.BinDir+":/usr/local/bin:/usr/bin:/bin" {
		t.Errorf("drop-in PATH = %q", p)
	}

	// Not restarted: not effective; restarted before the change: stale;
	// after: effective; unknown: unknown.
	tests := []struct {
		name      string
		svc       fakeService
		restart   string
		effective bool
	}{
		{"not running", fakeService{}, StateStale, false},
		{"started before", fakeService{running: true, started: w.now.Add(-time.Hour)}, StateStale, false},
		{"started after", fakeService{running: true, started: w.now.Add(time.Minute)}, StateOK, true},
		{"cannot tell", fakeService{err: errors.New("no user bus")}, StateUnknown, false},
	}
	for _, tt := range tests {
		*w.svc = tt.svc
		s := w.status(h)
		if got := layerState(t, s, LayerRestart); got != tt.restart || s.Effective != tt.effective || layerState(t, s, LayerSystemd) != StateOK {
			t.Errorf("%s: restart %s, effective %v; want %s, %v (%+v)", tt.name, got, s.Effective, tt.restart, tt.effective, s.Layers)
		}
	}

	// Idempotent.
	if r, err := h.Install(context.Background()); err != nil || !r.Has(LayerSystemd, Unchanged) {
		t.Errorf("second install: %v %+v", err, r.Steps)
	}
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unitFile + ".d"); !os.IsNotExist(err) {
		t.Errorf("drop-in directory created by install is still there: %v", err)
	}
	if got, _ := os.ReadFile(unitFile); string(got) != gatewayUnit {
		t.Errorf("unit file changed: %s", got)
	}
}

func TestSystemdDropInEditedIsKept(t *testing.T) {
	w := newWorld(t, "")
	unitFile := w.write(".config/systemd/user/openclaw-gateway.service", gatewayUnit, 0o644)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	dropIn := filepath.Join(unitFile+".d", DropInName)
	data, _ := os.ReadFile(dropIn)
	os.WriteFile(dropIn, append(data, "# my note\n"...), 0o600)
	r, err := h.Uninstall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerSystemd, Skipped) {
		t.Errorf("steps: %+v", r.Steps)
	}
	if _, err := os.Stat(dropIn); err != nil {
		t.Errorf("edited drop-in was removed: %v", err)
	}
}

// installPlist puts a LaunchAgent fixture into the world's home, with its
// /Users/alice paths rewritten to the home, and returns its path.
func (w *world) installPlist(fixture string) string {
	w.t.Helper()
	data := strings.ReplaceAll(string(readFixture(w.t, fixture)), "/Users/alice", w.home)
	return w.write("Library/LaunchAgents/ai.openclaw.gateway.plist", data, 0o644)
}

func TestLaunchAgentPlist(t *testing.T) {
	w := newWorld(t, "")
	file := w.installPlist("ai.openclaw.gateway.inline-env.plist")
	orig, _ := os.ReadFile(file)
	h := w.hook("darwin")
	h.Config, h.ConfigErr = nil, openclaw.ErrNoCLI

	// Declined: nothing changes.
	w.answer = false
	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(w.asked) != 1 || !r.Has(LayerLaunchd, Skipped) {
		t.Fatalf("asked %d time(s), steps %+v", len(w.asked), r.Steps)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, orig) {
		t.Fatal("plist changed although the edit was declined")
	}

	// Accepted.
	w.answer = true
	r, err = h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerLaunchd, Changed) || len(r.Restart) != 1 {
		t.Fatalf("steps %+v", r.Steps)
	}
	edited, _ := os.ReadFile(file)
	if p, _, _, _ := PlistPATH(edited); !firstInPATH(p, w.paths.BinDir) {
		t.Errorf("PATH = %q", p)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("plist mode = %v, want 0644 as before", fi.Mode().Perm())
	}
	st, _, err := loadState(h.StatePath())
	if err != nil || st.Plist == nil {
		t.Fatalf("state: %+v %v", st, err)
	}
	if backup, _ := os.ReadFile(st.Plist.Backup); !bytes.Equal(backup, orig) {
		t.Error("backup differs from the original plist")
	}
	w.svc.running, w.svc.started = true, w.now.Add(time.Second)
	if s := w.status(h); !s.Effective || layerState(t, s, LayerLaunchd) != StateOK {
		t.Errorf("status: %+v", s.Layers)
	}

	// Uninstall restores the original byte for byte and drops the backup.
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, orig) {
		t.Errorf("plist after uninstall differs from the original:\n%s", got)
	}
	if _, err := os.Stat(st.Plist.Backup); !os.IsNotExist(err) {
		t.Errorf("backup still there: %v", err)
	}
}

func TestLaunchAgentPlistSkipConfirm(t *testing.T) {
	w := newWorld(t, "")
	file := w.installPlist("ai.openclaw.gateway.inline-env.plist")
	h := w.hook("darwin")
	h.SkipConfirm = true
	w.answer = false
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(w.asked) != 0 {
		t.Errorf("asked although OPENCLAW_SKIP_PLIST_CONFIRM=1: %q", w.asked)
	}
	data, _ := os.ReadFile(file)
	if p, _, _, _ := PlistPATH(data); !firstInPATH(p, w.paths.BinDir) {
		t.Errorf("PATH = %q", p)
	}
}

// TestLaunchAgentEnvWrapper: with OpenClaw's generated environment wrapper,
// whose file exports PATH, the plist edit is reported as overridden.
func TestLaunchAgentEnvWrapper(t *testing.T) {
	w := newWorld(t, "")
	w.installPlist("ai.openclaw.gateway.env-wrapper.plist")
	env := strings.ReplaceAll(string(readFixture(t, "ai.openclaw.gateway.env")), "/Users/alice", w.home)
	w.write(".openclaw/service-env/ai.openclaw.gateway.env", env, 0o600)
	h := w.hook("darwin")
	h.SkipConfirm = true
	h.Config, h.ConfigErr = nil, openclaw.ErrNoCLI
	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, s := range r.Steps {
		if s.Layer == LayerLaunchd {
			detail = s.Detail
		}
	}
	if !strings.Contains(detail, "replaces the plist's") {
		t.Errorf("install does not warn about the environment file: %q", detail)
	}
	if s := w.status(h); layerState(t, s, LayerLaunchd) != StateOverridden || s.Effective {
		t.Errorf("status: %+v", s.Layers)
	}
}

func TestUninstallWithoutState(t *testing.T) {
	w := newWorld(t, `{}`)
	r, err := w.hook("linux").Uninstall(context.Background())
	if err != nil || len(r.Steps) != 1 || r.Steps[0].Result != Unchanged {
		t.Errorf("uninstall with nothing installed: %v %+v", err, r.Steps)
	}
}

func TestUninstallWithoutOpenClawKeepsRecord(t *testing.T) {
	w := newWorld(t, `{}`)
	h := w.hook("linux")
	if _, err := h.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Config, h.ConfigErr = nil, openclaw.ErrNoCLI
	r, err := h.Uninstall(context.Background())
	if !errors.Is(err, ErrIncomplete) || !r.Has(LayerPathPrepend, Failed) {
		t.Fatalf("uninstall: %v %+v", err, r.Steps)
	}
	st, _, err := loadState(h.StatePath())
	if err != nil || len(st.PathPrepend) != 1 || st.Shim != nil {
		t.Fatalf("state after incomplete uninstall: %+v %v", st, err)
	}
	h.Config = w.cfg
	if _, err := h.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.cfg.json(t); got != `{}` {
		t.Errorf("config = %s", got)
	}
}

// checkShims fails unless both shim paths are symlinks to target and the
// state records both.
func (w *world) checkShims(h *Hook, target string) {
	w.t.Helper()
	st, _, err := loadState(h.StatePath())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		rec  *ShimRecord
	}{{w.paths.Shim(), st.Shim}, {w.paths.SudoeditShim(), st.SudoeditShim}} {
		if got, err := os.Readlink(c.path); err != nil || got != target {
			w.t.Errorf("%s: link to %q (%v), want %q", c.path, got, err, target)
		}
		if c.rec == nil || c.rec.Path != c.path || c.rec.Target != target {
			w.t.Errorf("state record for %s = %+v, want target %s", c.path, c.rec, target)
		}
	}
}

// writeOldState writes a state file as clawwarden wrote it before the
// sudoedit shim: the sudo shim only, with its symlink in place.
func (w *world) writeOldState(h *Hook) {
	w.t.Helper()
	for _, d := range []string{w.paths.StateDir, w.paths.SecurityDir, w.paths.BinDir} {
		if err := safefile.EnsureDir(d); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := os.Symlink(w.bin, w.paths.Shim()); err != nil {
		w.t.Fatal(err)
	}
	old := `{
  "version": 1,
  "installed_at": "2026-06-01T08:00:00Z",
  "binary": ` + string(mustJSON(w.bin)) + `,
  "shim": {
    "path": ` + string(mustJSON(w.paths.Shim())) + `,
    "target": ` + string(mustJSON(w.bin)) + `,
    "bin_dir_created": true
  }
}
`
	if err := safefile.WriteFile(h.StatePath(), []byte(old)); err != nil {
		w.t.Fatal(err)
	}
}

func stepDetail(r *Report, layer string) string {
	for _, s := range r.Steps {
		if s.Layer == layer {
			return s.Detail
		}
	}
	return ""
}

// TestInstallCreatesSudoeditShim: install makes ~/.openclaw/bin/sudoedit
// beside sudo, records both, and changes nothing the second time.
func TestInstallCreatesSudoeditShim(t *testing.T) {
	w := newWorld(t, `{}`)
	h := w.hook("linux")
	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerShim, Changed) || !r.Has(LayerSudoedit, Changed) {
		t.Errorf("steps: %+v", r.Steps)
	}
	w.checkShims(h, w.bin)
	st, _, _ := loadState(h.StatePath())
	if !st.Shim.BinDirCreated || st.SudoeditShim.BinDirCreated {
		t.Errorf("bin_dir_created: sudo %v, sudoedit %v; want only the sudo record to own the directory", st.Shim.BinDirCreated, st.SudoeditShim.BinDirCreated)
	}
	s := w.status(h)
	if !s.Effective || layerState(t, s, LayerSudoedit) != StateOK || s.SudoeditShim != w.paths.SudoeditShim() {
		t.Errorf("status: %+v", s)
	}

	r, err = h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range []string{LayerShim, LayerSudoedit} {
		if !r.Has(layer, Unchanged) || r.Has(layer, Changed) {
			t.Errorf("second install, %s: %+v", layer, r.Steps)
		}
	}
}

// TestSudoeditRefusalChangesNothing: a sudoedit clawwarden did not make
// stops install before the sudo shim or the state is touched.
func TestSudoeditRefusalChangesNothing(t *testing.T) {
	const foreign = "#!/bin/sh\nexec /usr/bin/sudoedit \"$@\"\n"
	t.Run("fresh", func(t *testing.T) {
		w := newWorld(t, `{}`)
		p := w.write(".openclaw/bin/sudoedit", foreign, 0o755)
		h := w.hook("linux")
		r, err := h.Install(context.Background())
		var he *Error
		if !errors.Is(err, safefile.ErrUnsafe) || !errors.As(err, &he) || len(he.Hints) == 0 || !strings.Contains(he.Hints[0], "mv ") {
			t.Fatalf("install error = %v, want a refusal wrapping safefile.ErrUnsafe with a hint", err)
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a symlink") {
			t.Errorf("error does not name the path: %v", err)
		}
		if len(r.Steps) != 0 {
			t.Errorf("steps: %+v", r.Steps)
		}
		if _, err := os.Lstat(w.paths.Shim()); !os.IsNotExist(err) {
			t.Errorf("sudo shim created despite the refusal: %v", err)
		}
		if _, err := os.Lstat(h.StatePath()); !os.IsNotExist(err) {
			t.Errorf("state file written despite the refusal: %v", err)
		}
		if got, _ := os.ReadFile(p); string(got) != foreign {
			t.Errorf("foreign sudoedit changed: %q", got)
		}
		if w.cfg.writes != 0 {
			t.Errorf("config written %d time(s)", w.cfg.writes)
		}
	})
	t.Run("install from before the sudoedit shim", func(t *testing.T) {
		w := newWorld(t, `{}`)
		h := w.hook("linux")
		w.writeOldState(h)
		before, _ := os.ReadFile(h.StatePath())
		if err := os.Symlink("/usr/bin/sudoedit", w.paths.SudoeditShim()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Install(context.Background()); !errors.Is(err, safefile.ErrUnsafe) {
			t.Fatalf("install error = %v, want safefile.ErrUnsafe", err)
		}
		if after, _ := os.ReadFile(h.StatePath()); !bytes.Equal(before, after) {
			t.Errorf("state changed despite the refusal:\n%s", after)
		}
		if got, _ := os.Readlink(w.paths.SudoeditShim()); got != "/usr/bin/sudoedit" {
			t.Errorf("foreign sudoedit now points at %q", got)
		}
	})
}

// TestUpgradeFromSudoOnlyState: a state file from before the sudoedit shim
// reads fine; status says the sudoedit shim is missing and how to add it;
// install adds and records it; uninstall then removes everything.
func TestUpgradeFromSudoOnlyState(t *testing.T) {
	w := newWorld(t, `{}`)
	h := w.hook("linux")
	w.writeOldState(h)

	st, found, err := loadState(h.StatePath())
	if err != nil || !found || st.Shim == nil || st.SudoeditShim != nil {
		t.Fatalf("old state: %+v %v %v", st, found, err)
	}
	s := w.status(h)
	l, _ := s.Layer(LayerSudoedit)
	if s.Effective || !s.Installed || l.State != StateMissing || l.Fix != "clawwarden hook install" ||
		!strings.Contains(l.Detail, "'clawwarden hook install' adds it") || layerState(t, s, LayerShim) != StateOK {
		t.Errorf("status of the old install: %+v", s.Layers)
	}

	r, err := h.Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerShim, Unchanged) || !r.Has(LayerSudoedit, Changed) {
		t.Errorf("steps: %+v", r.Steps)
	}
	w.checkShims(h, w.bin)
	st, _, _ = loadState(h.StatePath())
	if !st.Shim.BinDirCreated {
		t.Error("install forgot that the old install created the bin directory")
	}
	if s := w.status(h); !s.Effective {
		t.Errorf("status after the upgrade: %+v", s.Layers)
	}

	r, err = h.Uninstall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has(LayerShim, Changed) || !r.Has(LayerSudoedit, Changed) {
		t.Errorf("uninstall steps: %+v", r.Steps)
	}
	for _, p := range []string{w.paths.SudoeditShim(), w.paths.Shim(), w.paths.BinDir, h.StatePath()} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after uninstall: %v", p, err)
		}
	}
}

// TestUninstallLeavesForeignSudoedit: uninstall removes only a sudoedit it
// recorded and still finds as it made it.
func TestUninstallLeavesForeignSudoedit(t *testing.T) {
	const foreign = "#!/bin/sh\n"
	tests := []struct {
		name  string
		setup func(w *world, h *Hook)
		want  string // in the sudoedit step's detail
	}{
		{"replaced since install", func(w *world, h *Hook) {
			if _, err := h.Install(context.Background()); err != nil {
				w.t.Fatal(err)
			}
			os.Remove(w.paths.SudoeditShim())
			w.write(".openclaw/bin/sudoedit", foreign, 0o755)
		}, "is no longer the symlink clawwarden made; left in place"},
		{"install from before the sudoedit shim", func(w *world, h *Hook) {
			w.writeOldState(h)
			w.write(".openclaw/bin/sudoedit", foreign, 0o755)
		}, "clawwarden did not record creating it; left in place"},
		{"nothing installed", func(w *world, h *Hook) {
			w.write(".openclaw/bin/sudoedit", foreign, 0o755)
		}, "clawwarden did not record creating it; left in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, `{}`)
			h := w.hook("linux")
			tt.setup(w, h)
			r, err := h.Uninstall(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !r.Has(LayerSudoedit, Skipped) || !strings.Contains(stepDetail(r, LayerSudoedit), tt.want) {
				t.Errorf("steps: %+v", r.Steps)
			}
			if got, err := os.ReadFile(w.paths.SudoeditShim()); err != nil || string(got) != foreign {
				t.Errorf("foreign sudoedit: %q %v", got, err)
			}
			if _, err := os.Lstat(w.paths.Shim()); !os.IsNotExist(err) {
				t.Errorf("sudo shim still there: %v", err)
			}
			if _, err := os.Lstat(h.StatePath()); !os.IsNotExist(err) {
				t.Errorf("state file still there: %v", err)
			}
		})
	}
}

// TestStatusSudoeditShim: a sudoedit shim that is missing or not the link
// to this binary makes the hook not effective, with a fix.
func TestStatusSudoeditShim(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *world)
		state  string
		fix    string
		detail string
	}{
		{"missing", func(w *world) { os.Remove(w.paths.SudoeditShim()) }, StateMissing, "clawwarden hook install", "sudoedit runs the real one, past the guard"},
		{"regular file", func(w *world) {
			os.Remove(w.paths.SudoeditShim())
			w.write(".openclaw/bin/sudoedit", "#!/bin/sh\n", 0o755)
		}, StateStale, "move it aside and run 'clawwarden hook install'", "is not a symlink to clawwarden"},
		{"points elsewhere", func(w *world) {
			os.Remove(w.paths.SudoeditShim())
			os.Symlink("/usr/bin/sudoedit", w.paths.SudoeditShim())
		}, StateStale, "clawwarden hook install", "not to this binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, `{}`)
			h := w.hook("linux")
			if _, err := h.Install(context.Background()); err != nil {
				t.Fatal(err)
			}
			tt.change(w)
			s := w.status(h)
			l, _ := s.Layer(LayerSudoedit)
			if s.Effective || l.State != tt.state || l.Fix != tt.fix || !strings.Contains(l.Detail, tt.detail) {
				t.Errorf("status: effective %v, %+v; want %s, fix %q, detail with %q", s.Effective, l, tt.state, tt.fix, tt.detail)
			}
			if strings.Contains(l.Detail, "recorded install made only") {
				t.Errorf("detail blames an old install: %q", l.Detail)
			}
			if got := layerState(t, s, LayerShim); got != StateOK {
				t.Errorf("sudo shim: %s", got)
			}
		})
	}
}
