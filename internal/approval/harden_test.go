package approval

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHarden: after Harden the process is not dumpable and not traced. (The
// end-to-end test TestApproverMemoryClosedToTheAgent checks from another
// process of the account that /proc/PID/mem is closed.)
func TestHarden(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_DUMPABLE is Linux")
	}
	before, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(before), 0, 0, 0)
	if err := Harden(); err != nil {
		t.Fatal(err)
	}
	if d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); d != 0 {
		t.Errorf("dumpable = %d after Harden", d)
	}
	if err := CheckNotTraced(); err != nil {
		t.Errorf("CheckNotTraced: %v", err)
	}
}
