package scripttest

import (
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

func TestNeedFailsWhenStrict(t *testing.T) {
	t.Setenv(testenv.StrictEnv, "")
	if ok, err := condition("have:no-such-program-here"); ok || err != nil {
		t.Errorf("plain: %v %v", ok, err)
	}
	if ok, err := condition("have:sh"); !ok || err != nil {
		t.Errorf("sh: %v %v", ok, err)
	}
	t.Setenv(testenv.StrictEnv, "1")
	if _, err := condition("have:no-such-program-here"); err == nil || !strings.Contains(err.Error(), "lacks [have:no-such-program-here]") {
		t.Errorf("strict: %v", err)
	}
	if ok, err := condition("have:sh"); !ok || err != nil {
		t.Errorf("strict, met: %v %v", ok, err)
	}
	// A branch, not a need: never an error.
	if _, err := condition("crond"); err != nil {
		t.Errorf("crond: %v", err)
	}
}
