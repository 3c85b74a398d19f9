package boundary

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// rootTrusted are files and directories root reads, runs or writes
// without asking: whoever can change one of them is root. The cron and
// systemd directories are checked with their jobs and units.
var rootTrusted = []struct {
	why   string
	paths []string
}{
	{"sudo reads it to decide who is root", []string{"/etc/sudoers", "/etc/sudoers.d", "/etc/sudo.conf", "/usr/bin/sudo", "/usr/libexec/sudo", "/usr/lib/sudo"}},
	{"it defines the accounts and their passwords", []string{"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"}},
	{"the dynamic loader reads it for every program root runs", []string{"/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d"}},
	{"PAM and login read it for root's sessions and for sudo", []string{"/etc/pam.d", "/etc/security", "/etc/environment", "/etc/default/locale"}},
	{"root's shells read it", []string{"/etc/profile", "/etc/profile.d", "/etc/bash.bashrc", "/root", "/root/.bashrc", "/root/.profile", "/root/.ssh", "/root/.ssh/authorized_keys"}},
	{"root loads or runs it at boot or on events", []string{"/etc/modprobe.d", "/etc/udev/rules.d", "/etc/tmpfiles.d", "/etc/init.d", "/etc/rc.local", "/etc/apt/apt.conf.d", "/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d"}},
	{"root runs programs from it", []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib", "/usr/libexec", "/usr/local/lib", "/usr/local/libexec"}},
	{"clawwarden's root helper trusts it", []string{"/etc/clawwarden", "/var/lib/clawwarden", "/var/log/clawwarden"}},
}

// checkRootFiles reports files and directories root trusts that the
// account can change, the helper among them.
func (c *checker) checkRootFiles() {
	n := 0
	check := func(p, why string) {
		n++
		if e := c.writable(p); e != nil {
			c.report(KindRootFile, e, fmt.Sprintf("root trusts %s (%s)", c.host(p), why), "")
		}
	}
	for _, h := range c.helperPaths() {
		check(h, "sudo runs it as root for the account")
	}
	for _, g := range rootTrusted {
		for _, p := range g.paths {
			check(p, g.why)
		}
	}
	c.evidence("root-trusted files: checked %d paths (sudoers, accounts, loader, PAM, root's shells and PATH, clawwarden's state) and the directories above them", n)
}

// capNames are the capability numbers' names (linux/capability.h).
var capNames = []string{"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
	"linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module",
	"sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
	"wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"}

// rootCaps are the capabilities that amount to root for whoever holds them.
const rootCaps = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<6 | 1<<7 | 1<<16 | 1<<17 | 1<<19 | 1<<21 | 1<<27 | 1<<31

// fileCaps decodes a security.capability value (VFS_CAP_REVISION 1, 2 or
// 3): the permitted set, the inheritable set and the effective flag.
func fileCaps(b []byte) (permitted, inheritable uint64, effective bool, err error) {
	if len(b) < 4 {
		return 0, 0, false, errors.New("short security.capability")
	}
	magic := binary.LittleEndian.Uint32(b)
	effective = magic&1 != 0
	switch magic & 0xFF000000 {
	case 0x01000000:
		if len(b) < 12 {
			return 0, 0, false, errors.New("short security.capability")
		}
		return uint64(binary.LittleEndian.Uint32(b[4:])), uint64(binary.LittleEndian.Uint32(b[8:])), effective, nil
	case 0x02000000, 0x03000000:
		if len(b) < 20 {
			return 0, 0, false, errors.New("short security.capability")
		}
		permitted = uint64(binary.LittleEndian.Uint32(b[4:])) | uint64(binary.LittleEndian.Uint32(b[12:]))<<32
		inheritable = uint64(binary.LittleEndian.Uint32(b[8:])) | uint64(binary.LittleEndian.Uint32(b[16:]))<<32
		return permitted, inheritable, effective, nil
	}
	return 0, 0, false, fmt.Errorf("unknown security.capability revision %#x", magic&0xFF000000)
}

// capText writes a capability set the way getcap does ("cap_setuid,cap_net_raw=ep").
func capText(set uint64, effective bool) string {
	var names []string
	for i := 0; i < 64; i++ {
		if set&(1<<i) == 0 {
			continue
		}
		if i < len(capNames) {
			names = append(names, "cap_"+capNames[i])
		} else {
			names = append(names, fmt.Sprintf("cap_%d", i))
		}
	}
	if effective {
		return strings.Join(names, ",") + "=ep"
	}
	return strings.Join(names, ",") + "=p"
}

// walkDirs returns the host directories of the bounded walk.
func (c *checker) walkDirs() []string {
	dirs := []string{"/usr/local/bin", "/usr/local/sbin", "/opt"}
	if h := path.Clean("/" + c.acct.home); h != "/" && h != "/nonexistent" {
		dirs = append([]string{h}, dirs...)
	}
	return dirs
}

// checkWalk walks the account's home, /usr/local/bin, /usr/local/sbin and
// /opt (at most WalkLimit entries, symbolic links not followed) for setuid
// or setgid files the account owns and files with capabilities that it
// owns, can write, or may run when they carry a root-equivalent capability.
func (c *checker) checkWalk(ctx context.Context) {
	limit := c.o.WalkLimit
	if limit <= 0 {
		limit = DefaultWalkLimit
	}
	visited, suid, caps := 0, 0, 0
	truncated := false
	var walked []string
	for _, dir := range c.walkDirs() {
		if truncated {
			c.incomplete("walk: %s not visited (the walk stopped after %d entries)", c.host(dir), limit)
			continue
		}
		if _, err := c.lstat(dir); err != nil {
			continue
		}
		walked = append(walked, c.host(dir))
		err := filepath.WalkDir(c.full(dir), func(full string, d fs.DirEntry, err error) error {
			if err != nil {
				c.incomplete("walk: %v", err)
				return nil
			}
			if visited >= limit {
				truncated = true
				return fs.SkipAll
			}
			visited++
			if visited%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if !d.Type().IsRegular() {
				return nil
			}
			var st unix.Stat_t
			if unix.Lstat(full, &st) != nil {
				return nil
			}
			host := strings.TrimPrefix(full, c.root)
			if st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 {
				suid++
				if st.Uid == c.acct.uid {
					bits := map[bool]string{true: "setuid", false: "setgid"}[st.Mode&unix.S_ISUID != 0]
					c.find(KindSetuidOwned, fmt.Sprintf("%s is %s (mode %04o) and owned by %s: a privilege bit on a file the agent controls, which nothing on an enforced host should need",
						c.host(host), bits, st.Mode&0o7777, c.acct.name), "chmod ug-s "+c.host(host))
				}
			}
			buf := make([]byte, 64)
			n, err := unix.Lgetxattr(full, "security.capability", buf)
			if err != nil {
				return nil
			}
			caps++
			perm, inh, eff, err := fileCaps(buf[:n])
			if err != nil {
				c.incomplete("walk: %s: %v", c.host(host), err)
				return nil
			}
			text := capText(perm|inh, eff)
			g, canWrite := c.access(full, &st, permW)
			_, canRun := c.access(full, &st, permX)
			switch {
			case st.Uid == c.acct.uid || canWrite:
				c.find(KindFileCapability, fmt.Sprintf("%s carries file capabilities (%s) and is %s: capabilities on a file the agent controls are the agent's to use",
					c.host(host), text, g.describe(c.acct.name)), "setcap -r "+c.host(host))
			case perm&rootCaps != 0 && eff && canRun:
				c.find(KindFileCapability, fmt.Sprintf("%s carries %s and %s may run it: those capabilities amount to root",
					c.host(host), capText(perm&rootCaps, eff), c.acct.name), "setcap -r "+c.host(host))
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.SkipAll) {
			c.incomplete("walk: %v", err)
		}
	}
	if truncated {
		c.incomplete("walk: stopped after %d entries (WalkLimit); files beyond were not checked for capabilities or setuid bits", limit)
	}
	if len(walked) == 0 {
		c.evidence("walk: none of %s exists", strings.Join(c.walkDirs(), ", "))
		return
	}
	c.evidence("walk: %d entries under %s: %d setuid/setgid file(s), %d with file capabilities",
		visited, strings.Join(walked, ", "), suid, caps)
}
