package approval

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Harden makes this process one that other processes of the same account
// cannot read or write: not dumpable, so /proc/PID/mem and ptrace need
// root (an agent on the account could otherwise rewrite, after the person
// approved, the command this process is about to run). It fails when a
// tracer is already attached. A process that attached or opened
// /proc/PID/mem in the moment before Harden ran is caught only as far as
// the tracer check goes; kernel.yama.ptrace_scope >= 1 closes that window.
func Harden() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
	}
	return CheckNotTraced()
}

// CheckNotTraced fails when a debugger is attached to this process.
func CheckNotTraced() error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("TracerPid:")); ok {
			if pid := string(bytes.TrimSpace(v)); pid != "0" {
				return fmt.Errorf("%w: process %s is tracing this one and could change what runs", ErrDenied, pid)
			}
			return nil
		}
	}
	return nil
}
