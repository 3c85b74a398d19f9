package testenv

import (
	"fmt"
	"os"
	"testing"
)

// StrictEnv is the variable that makes a missing tool or privilege fail a
// test instead of skipping it; .ci/run sets it, so CI never passes by
// skipping.
const StrictEnv = "CLAWWARDEN_TEST_STRICT"

// Strict reports whether CLAWWARDEN_TEST_STRICT=1.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Skip skips the test because the host lacks something it needs (a tool,
// root, a test account, OpenClaw's cache): it fails instead when
// CLAWWARDEN_TEST_STRICT=1. Skips that are not about the host (a helper
// process, a benchmark-only test, -short) call t.Skip directly.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s=1: would skip: %s", StrictEnv, msg)
	}
	t.Skip(msg)
}
