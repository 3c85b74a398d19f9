package schedule

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// cronDaemonNames are the process names of the cron daemons that read
// users' crontabs (Debian's cron, cronie's crond, busybox crond).
var cronDaemonNames = map[string]bool{"cron": true, "crond": true}

// CronDaemon returns the pid of a running cron daemon (a process named cron
// or crond, owned by root) found under procDir (normally /proc), or 0 when
// none runs: a crontab line nobody reads never runs.
func CronDaemon(procDir string) int {
	ents, err := os.ReadDir(procDir)
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procDir, e.Name(), "comm"))
		if err != nil || !cronDaemonNames[strings.TrimSpace(string(comm))] {
			continue
		}
		// Any account can name a process cron; the daemon runs as root.
		if fi, err := os.Stat(filepath.Join(procDir, e.Name())); err == nil && ownerUID(fi) == 0 {
			return pid
		}
	}
	return 0
}

// ownerUID is the owner of a /proc entry, or -1 where it cannot be told.
func ownerUID(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
