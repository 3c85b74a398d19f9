package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSkipFailsWhenStrict runs a test that calls Skip in a child process,
// once plain and once with CLAWWARDEN_TEST_STRICT=1.
func TestSkipFailsWhenStrict(t *testing.T) {
	if os.Getenv("CLAWWARDEN_TEST_SKIP_CHILD") == "1" {
		Skip(t, "the child needs %s", "something missing")
		return
	}
	for _, strict := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSkipFailsWhenStrict$", "-test.v")
		cmd.Env = append(os.Environ(), "CLAWWARDEN_TEST_SKIP_CHILD=1", StrictEnv+"="+strict)
		out, err := cmd.CombinedOutput()
		s := string(out)
		if strict == "" && (err != nil || !strings.Contains(s, "--- SKIP") || !strings.Contains(s, "the child needs something missing")) {
			t.Errorf("plain: %v\n%s", err, s)
		}
		if strict == "1" && (err == nil || !strings.Contains(s, "--- FAIL") || !strings.Contains(s, "would skip: the child needs something missing")) {
			t.Errorf("strict: %v\n%s", err, s)
		}
	}
}
