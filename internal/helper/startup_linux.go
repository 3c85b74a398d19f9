package helper

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// caught are the signals the helper catches and discards: a caller could
// use them (through sudo, which relays what the agent sends it) to stop,
// hang up or kill the helper between filing and running. Caught, not
// ignored: a caught signal's handler does not survive exec, so the command
// gets the default dispositions, where an ignored one would stay ignored.
var caught = []os.Signal{syscall.SIGPIPE, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP,
	syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM}

// startup makes the process what a setuid program must be before it trusts
// anything: it requires uid, euid and gid 0; takes the caller from SUDO_UID
// and then clears the whole environment (sudo passes PATH and others
// through unless sudoers says otherwise); reports the supplementary groups
// it inherited (sudo -P keeps the caller's) and resets them to root's group
// only; leaves the caller's session and terminal; sets umask 022; resets
// every resource limit to init's, and the nice value, CPU affinity and OOM
// score the caller set; and catches the signals a caller could use to stop
// or confuse it.
func startup() (caller string, inherited []int, err error) {
	if os.Getuid() != 0 || os.Geteuid() != 0 || os.Getgid() != 0 {
		return "", nil, fmt.Errorf("the root helper must run as root (uid %d, euid %d, gid %d): only through sudo, as the agent account's one sudo right", os.Getuid(), os.Geteuid(), os.Getgid())
	}
	signal.Notify(make(chan os.Signal, 16), caught...)
	caller = os.Getenv("SUDO_UID")
	os.Clearenv()
	os.Setenv("PATH", safePath)
	inherited, _ = unix.Getgroups()
	if err := unix.Setgroups([]int{0}); err != nil {
		return caller, inherited, fmt.Errorf("setgroups: %w", err)
	}
	unix.Setsid() // fails only when already a session leader
	unix.Umask(0o022)
	if err := resetLimits(); err != nil {
		return caller, inherited, err
	}
	unix.Setpriority(unix.PRIO_PROCESS, 0, 0)
	var all unix.CPUSet
	for i := range runtime.NumCPU() * 4 {
		all.Set(i)
	}
	unix.SchedSetaffinity(0, &all)
	os.WriteFile("/proc/self/oom_score_adj", []byte("0"), 0)
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	return caller, inherited, nil
}

// limitNames maps /proc/1/limits rows to resources.
var limitNames = map[string]int{
	"Max cpu time": unix.RLIMIT_CPU, "Max file size": unix.RLIMIT_FSIZE, "Max data size": unix.RLIMIT_DATA,
	"Max stack size": unix.RLIMIT_STACK, "Max core file size": unix.RLIMIT_CORE, "Max resident set": unix.RLIMIT_RSS,
	"Max processes": unix.RLIMIT_NPROC, "Max open files": unix.RLIMIT_NOFILE, "Max locked memory": unix.RLIMIT_MEMLOCK,
	"Max address space": unix.RLIMIT_AS, "Max file locks": unix.RLIMIT_LOCKS, "Max pending signals": unix.RLIMIT_SIGPENDING,
	"Max msgqueue size": unix.RLIMIT_MSGQUEUE, "Max nice priority": unix.RLIMIT_NICE, "Max realtime priority": unix.RLIMIT_RTPRIO,
	"Max realtime timeout": unix.RLIMIT_RTTIME,
}

// resetLimits sets every resource limit to the one init (pid 1) runs with,
// so limits the caller lowered (ulimit -f 1, -n 16) do not reach root's
// command. Raising a hard limit needs CAP_SYS_RESOURCE; without it (some
// containers) the soft limit is raised as far as the inherited hard limit
// allows, and when that is below init's soft limit the request is refused:
// the command never runs with limits the caller chose.
func resetLimits() error {
	f, err := os.Open("/proc/1/limits")
	if err != nil {
		return fmt.Errorf("read init's limits: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	set := 0
	for sc.Scan() {
		line := sc.Text()
		for name, res := range limitNames {
			rest, ok := strings.CutPrefix(line, name)
			if !ok {
				continue
			}
			fields := strings.Fields(rest)
			if len(fields) < 2 {
				continue
			}
			// syscall.Setrlimit, not unix's: it also tells the runtime that
			// the open-files limit a child gets is now this one, not the
			// caller's.
			want := syscall.Rlimit{Cur: parseLimit(fields[0]), Max: parseLimit(fields[1])}
			err := syscall.Setrlimit(res, &want)
			if err != nil {
				var cur syscall.Rlimit
				if gerr := syscall.Getrlimit(res, &cur); gerr != nil {
					return fmt.Errorf("getrlimit %s: %w", name, gerr)
				}
				soft := min(want.Cur, cur.Max)
				if soft < floor(res, want.Cur) {
					return fmt.Errorf("the caller lowered %q to %d, below root's %d, and this system does not let root raise it back (no CAP_SYS_RESOURCE): refused", name, cur.Max, want.Cur)
				}
				lim := syscall.Rlimit{Cur: soft, Max: cur.Max}
				if err := syscall.Setrlimit(res, &lim); err != nil {
					return fmt.Errorf("setrlimit %s: %w", name, err)
				}
			}
			set++
		}
	}
	if set < len(limitNames)-2 {
		return fmt.Errorf("could not read init's resource limits (%d of %d)", set, len(limitNames))
	}
	return nil
}

// floor is the lowest soft limit a command may get where root's cannot be
// restored: init's own for limits that are normally unlimited (a lowered
// file size or CPU limit is the caller's doing), sane minimums for the
// others, nothing for limits that only restrict what a command may raise.
func floor(res int, initSoft uint64) uint64 {
	switch res {
	case unix.RLIMIT_CPU, unix.RLIMIT_FSIZE, unix.RLIMIT_DATA, unix.RLIMIT_RSS, unix.RLIMIT_AS, unix.RLIMIT_LOCKS:
		return initSoft
	case unix.RLIMIT_NOFILE, unix.RLIMIT_NPROC:
		return min(initSoft, 1024)
	case unix.RLIMIT_STACK:
		return min(initSoft, 8<<20)
	}
	return 0
}

func parseLimit(s string) uint64 {
	if s == "unlimited" {
		return unix.RLIM_INFINITY
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return unix.RLIM_INFINITY
	}
	return n
}

// bootID names this boot: kept approvals do not survive a reboot.
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
