package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/scripttest"
)

// TestMain points enforced mode's layout at an empty directory: these tests
// are about the command line in same-user mode, whatever the test host has
// installed (the end-to-end tests install enforced mode while they run).
// Started by a script as clawwarden, the test binary runs clawwarden, with
// the same empty layout.
func TestMain(m *testing.M) {
	scripttest.Main(emptyLayoutM{m}, func() int {
		return withEmptyLayout(func() int {
			return Run(os.Args, Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ()})
		})
	})
}

// TestScript runs the end-to-end scripts in testdata/script.
func TestScript(t *testing.T) {
	t.Parallel()
	scripttest.Run(t, "testdata/script")
}

// withEmptyLayout runs f with enforcedLayout at a fresh empty directory.
func withEmptyLayout(f func() int) int {
	dir, err := os.MkdirTemp("", "clawwarden-cli-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	enforcedLayout = rootside.Layout{Root: dir}
	return f()
}

// emptyLayoutM runs the tests with an empty enforced-mode layout.
type emptyLayoutM struct{ m *testing.M }

func (e emptyLayoutM) Run() int { return withEmptyLayout(e.m.Run) }

// run runs clawwarden in-process with env as its whole environment and an
// empty standard input, and returns its exit status and output. Tests that
// need no Go-level setup or inspection are scripts instead (TestScript).
func run(env []string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(append([]string{"clawwarden"}, args...), Stdio{In: strings.NewReader(""), Out: &out, Err: &errb, Env: env})
	return code, out.String(), errb.String()
}
