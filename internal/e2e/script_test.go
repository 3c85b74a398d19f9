package e2e

import (
	"testing"

	"github.com/clawwarden/clawwarden/internal/scripttest"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// TestMain lets the test binary drive the scripts' pseudo-terminals.
func TestMain(m *testing.M) { scripttest.Main(m, nil) }

// TestScript runs the end-to-end scripts in testdata/script against the
// clawwarden binary built with the test clock.
func TestScript(t *testing.T) {
	scripttest.RunBinary(t, "testdata/script", testenv.Binary(t, "clawwarden_testclock"))
}
