//go:build !linux

package approval

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// flushInput discards pending terminal input (TIOCFLUSH with FREAD on BSDs
// and macOS).
func flushInput(fd int) { _ = unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, 1) }

func ttyName() string { return "/dev/tty" }
