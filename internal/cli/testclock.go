//go:build clawwarden_testclock

package cli

import (
	"os"
	"time"
)

// This file is compiled only into test builds (-tags clawwarden_testclock).
// It lets end-to-end tests move the clock forward, for example past the
// 30-minute idle expiry, through CLAWWARDEN_TEST_CLOCK_OFFSET (a Go
// duration). Release builds have no such knob: an agent must not be able to
// move the guard's clock.
func init() {
	off, err := time.ParseDuration(os.Getenv("CLAWWARDEN_TEST_CLOCK_OFFSET"))
	if err != nil || off == 0 {
		return
	}
	testNow = func() time.Time { return time.Now().Add(off) }
}
