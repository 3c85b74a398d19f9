//go:build !linux

package approval

// Harden is a no-op where the process cannot be made non-dumpable the
// Linux way.
func Harden() error { return nil }

// CheckNotTraced is a no-op outside Linux.
func CheckNotTraced() error { return nil }
