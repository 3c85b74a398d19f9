//go:build clawwarden_testclock

package helper

import (
	"os"
	"strings"
	"time"
)

// In test builds only, the helper's clock runs ahead by the duration in the
// root-owned file /etc/clawwarden/test-clock-offset (e.g. "11m"), so tests
// can let a kept approval idle out without waiting. Release builds have no
// such file reader.
func init() {
	testNow = func() time.Time {
		b, err := os.ReadFile("/etc/clawwarden/test-clock-offset")
		if err != nil {
			return time.Now()
		}
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			return time.Now()
		}
		return time.Now().Add(d)
	}
}
