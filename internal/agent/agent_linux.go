package agent

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// gatewayAncestor walks from pid up the parent chain and returns the first
// OpenClaw gateway found (pid itself included).
func gatewayAncestor(pid int) (int, string, bool) {
	for range maxDepth {
		if pid <= 1 {
			return 0, "", false
		}
		comm, ppid, ok := stat(pid)
		if !ok {
			return 0, "", false
		}
		if IsGateway(comm, cmdline(pid)) {
			return pid, comm, true
		}
		pid = ppid
	}
	return 0, "", false
}

// stat reads a process's comm and parent pid from /proc/PID/stat.
func stat(pid int) (comm string, ppid int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return "", 0, false
	}
	return string(data[open+1 : end]), ppid, true
}

func cmdline(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// sessionOf returns the session id the terminal belongs to.
func sessionOf(tty *os.File) (int, bool) {
	rc, err := tty.SyscallConn()
	if err != nil {
		return 0, false
	}
	sid, ok := 0, false
	rc.Control(func(fd uintptr) {
		s, err := unix.IoctlGetInt(int(fd), unix.TIOCGSID)
		sid, ok = s, err == nil
	})
	return sid, ok
}
