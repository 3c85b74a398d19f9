package approval

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

func flushInput(fd int) { _ = unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH) }

// ttyName is the controlling terminal's device path, from tty_nr in
// /proc/self/stat: /dev/pts/N for pseudo-terminals, else /dev/tty.
func ttyName() string {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return "/dev/tty"
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 5 {
		return "/dev/tty"
	}
	nr, err := strconv.Atoi(f[4])
	if err != nil || nr == 0 {
		return "/dev/tty"
	}
	major := (nr >> 8) & 0xfff
	minor := (nr & 0xff) | ((nr >> 12) & 0xfff00)
	if major >= 136 && major <= 143 {
		return "/dev/pts/" + strconv.Itoa((major-136)*256+minor)
	}
	return "/dev/tty"
}
