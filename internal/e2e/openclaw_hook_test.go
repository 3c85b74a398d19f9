package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/hook"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// openclawCache is where scripts/openclaw-env installs Node 24 and OpenClaw
// from npm, outside the repository; CLAWWARDEN_TEST_CACHE moves it.
func openclawCache() string {
	if d := os.Getenv("CLAWWARDEN_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/cache/clawwarden-test"
}

// openclawWorld is a home directory with a real OpenClaw CLI and the
// clawwarden binary on PATH, and OpenClaw's state and config inside the home.
type openclawWorld struct {
	t        *testing.T
	bin      string // clawwarden
	openclaw string
	home     string
	config   string // openclaw.json
	env      []string
}

func newOpenClawWorld(t *testing.T) *openclawWorld {
	t.Helper()
	cache := openclawCache()
	nodeBin := filepath.Join(cache, "node24", "node_modules", "node", "bin")
	oc := filepath.Join(cache, "openclaw", "node_modules", ".bin", "openclaw")
	if _, err := os.Stat(filepath.Join(nodeBin, "node")); err != nil {
		testenv.Skip(t, "Node 24 is not installed in %s: run scripts/openclaw-env", cache)
	}
	if _, err := os.Stat(oc); err != nil {
		testenv.Skip(t, "OpenClaw is not installed in %s: run scripts/openclaw-env", cache)
	}
	w := &openclawWorld{t: t, bin: testenv.Binary(t, ""), openclaw: oc}
	w.home = filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(w.home, ".openclaw")
	w.config = filepath.Join(state, "openclaw.json")
	w.env = []string{
		"HOME=" + w.home,
		"OPENCLAW_STATE_DIR=" + state,
		"OPENCLAW_CONFIG_PATH=" + w.config,
		"PATH=" + strings.Join([]string{filepath.Dir(w.bin), nodeBin, filepath.Dir(oc), "/usr/local/bin", "/usr/bin", "/bin"}, ":"),
		"LANG=C.UTF-8",
		"NO_COLOR=1",
	}
	return w
}

func (w *openclawWorld) run(name string, args ...string) (int, string, string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env
	cmd.Dir = w.home
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return testenv.ExitCode(err), out.String(), errb.String()
}

// clawwarden runs clawwarden and fails the test unless it exits with want.
func (w *openclawWorld) clawwarden(want int, args ...string) string {
	w.t.Helper()
	code, out, errOut := w.run(w.bin, args...)
	if code != want {
		w.t.Fatalf("clawwarden %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// oc runs the openclaw CLI and fails the test on an error.
func (w *openclawWorld) oc(args ...string) string {
	w.t.Helper()
	code, out, errOut := w.run(w.openclaw, args...)
	if code != 0 {
		w.t.Fatalf("openclaw %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// pathPrepend reads tools.exec.pathPrepend back through `openclaw config
// get`; nil means unset.
func (w *openclawWorld) pathPrepend() []string {
	w.t.Helper()
	code, out, errOut := w.run(w.openclaw, "config", "get", hook.PrependKey, "--json")
	if code != 0 {
		if strings.Contains(out+errOut, "valid but unset") {
			return nil
		}
		w.t.Fatalf("openclaw config get: exit %d\n%s%s", code, out, errOut)
	}
	var v []string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		w.t.Fatalf("openclaw config get %s: %v\n%s", hook.PrependKey, err, out)
	}
	return v
}

// expandTilde expands a leading "~/" as OpenClaw does when it reads
// pathPrepend entries.
func (w *openclawWorld) expandTilde(entries []string) []string {
	var out []string
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e, "~/"); ok {
			e = filepath.Join(w.home, rest)
		}
		out = append(out, e)
	}
	return out
}

// listedSkill is one entry of `openclaw skills list --json`.
type listedSkill struct {
	Name     string `json:"name"`
	Source   string `json:"source"`
	Eligible bool   `json:"eligible"`
	Missing  struct {
		Bins []string `json:"bins"`
	} `json:"missing"`
}

// TestOpenClawSkillListed: after `skill install`, `openclaw skills list`
// shows the skill as a managed skill, eligible because clawwarden is on PATH.
func TestOpenClawSkillListed(t *testing.T) {
	// Slow (a real OpenClaw) and independent of the other tests: scripts/test
	// runs it in its second go test process, beside the rest.
	t.Parallel()
	w := newOpenClawWorld(t)
	w.clawwarden(0, "skill", "install")
	var list struct {
		ManagedSkillsDir string        `json:"managedSkillsDir"`
		Skills           []listedSkill `json:"skills"`
	}
	if err := json.Unmarshal([]byte(w.oc("skills", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(w.home, ".openclaw", "skills"); list.ManagedSkillsDir != want {
		t.Errorf("OpenClaw's managed skills directory is %s, clawwarden installs into %s", list.ManagedSkillsDir, want)
	}
	i := slices.IndexFunc(list.Skills, func(s listedSkill) bool { return s.Name == "cyber-security-engineer" })
	if i < 0 {
		t.Fatalf("openclaw skills list does not show cyber-security-engineer")
	}
	s := list.Skills[i]
	if s.Source != "openclaw-managed" || !s.Eligible || len(s.Missing.Bins) != 0 {
		t.Errorf("skill as OpenClaw lists it: %+v", s)
	}
	w.clawwarden(0, "skill", "status")

	w.clawwarden(0, "skill", "uninstall")
	if out := w.oc("skills", "list", "--json"); strings.Contains(out, `"cyber-security-engineer"`) {
		t.Error("the skill is still listed after uninstall")
	}
}
