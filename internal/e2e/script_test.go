package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/clawwarden/clawwarden/internal/scripttest"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestMain lets the test binary drive the scripts' pseudo-terminals.
func TestMain(m *testing.M) { scripttest.Main(m, nil) }

// TestScript runs the end-to-end scripts in testdata/script against the
// clawwarden binary built with the test clock. They run before the
// parallel tests, some of which install enforced mode.
func TestScript(t *testing.T) {
	testscript.Run(t, params(t, "testdata/script"))
}

// TestOpenClawScript runs the scripts in testdata/openclaw, which start a
// real OpenClaw from the cache (scripts/openclaw-env): slow, and
// independent of the other tests (a running gateway holds
// testenv.EnforcedLock), so scripts/test runs them in its second go test
// process, beside the rest.
func TestOpenClawScript(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a real OpenClaw")
	}
	testscript.Run(t, params(t, "testdata/openclaw"))
}

// params adds to scripttest's: $OPENCLAW_PATH, the directories of node and
// openclaw in the cache, and the condition [openclaw], both installed there.
func params(t *testing.T, dir string) testscript.Params {
	p := scripttest.Params(dir, testenv.Binary(t, "clawwarden_testclock"))
	cache := openclawCache()
	nodeBin := filepath.Join(cache, "node24", "node_modules", "node", "bin")
	ocBin := filepath.Join(cache, "openclaw", "node_modules", ".bin")
	setup, cond := p.Setup, p.Condition
	p.Setup = func(env *testscript.Env) error {
		env.Setenv("OPENCLAW_PATH", nodeBin+string(os.PathListSeparator)+ocBin)
		return setup(env)
	}
	p.Condition = func(c string) (bool, error) {
		if c == "openclaw" {
			_, errNode := os.Stat(filepath.Join(nodeBin, "node"))
			_, errOC := os.Stat(filepath.Join(ocBin, "openclaw"))
			return errNode == nil && errOC == nil, nil
		}
		return cond(c)
	}
	return p
}
