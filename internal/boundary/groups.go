package boundary

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// rootGroups are the groups that are root in disguise, and why. Not here,
// on purpose: adm (reads logs), kvm (/dev/kvm only), staff (Debian's
// /usr/local is root-owned unless changed, which the root-file check would
// see), and incus (Incus confines its members to a restricted project of
// their own; incus-admin is the one that is root).
var rootGroups = map[string]string{
	"sudo":        "sudoers rules and polkit's default admin rule name %sudo",
	"wheel":       "sudoers, su (pam_wheel) and polkit rules name %wheel",
	"admin":       "sudoers rules name %admin (older Ubuntu)",
	"docker":      "the Docker daemon runs any container as root, with the host's / mounted",
	"lxd":         "the LXD daemon starts privileged containers with host paths mounted",
	"incus-admin": "the Incus daemon starts privileged containers with host paths mounted",
	"libvirt":     "libvirtd starts virtual machines with any host disk or path attached",
	"disk":        "its members read and write raw block devices, so every file on them",
	"shadow":      "its members read /etc/shadow, every account's password hash",
	"root":        "files group-owned by root with group write become the account's",
}

// checkGroups reports membership of groups that are root in disguise.
func (c *checker) checkGroups() {
	c.bad = map[string]bool{}
	var found []string
	for _, g := range c.acct.groupList() {
		why, ok := rootGroups[g.name]
		if !ok && g.gid != 0 {
			continue
		}
		if g.gid == 0 && !ok {
			why = rootGroups["root"]
		}
		c.bad[g.name] = true
		found = append(found, g.name)
		if g.primary {
			fix := fmt.Sprintf("usermod -g %s %s", c.acct.name, c.acct.name)
			if !c.groupExists(c.acct.name) {
				fix = fmt.Sprintf("groupadd %s && usermod -g %s %s", c.acct.name, c.acct.name, c.acct.name)
			}
			c.find(KindGroup, fmt.Sprintf("%s's primary group in %s is %s (gid %d), which is root in disguise: %s",
				c.acct.name, c.host("/etc/passwd"), g.name, g.gid, why), fix)
			continue
		}
		c.find(KindGroup, fmt.Sprintf("%s is a member of group %s (gid %d) in %s, which is root in disguise: %s",
			c.acct.name, g.name, g.gid, c.host("/etc/group"), why),
			fmt.Sprintf("gpasswd -d %s %s", c.acct.name, g.name))
	}
	var all []string
	for n := range rootGroups {
		all = append(all, n)
	}
	slices.Sort(all)
	if len(found) == 0 {
		c.evidence("groups: %s is in none of %s, nor gid 0", c.acct.name, strings.Join(all, ", "))
	}
}

func (c *checker) groupExists(name string) bool {
	for _, g := range c.groupFile() {
		if g.name == name {
			return true
		}
	}
	return false
}

// containerSockets are the sockets of daemons that run what their clients
// ask as root.
var containerSockets = []string{
	"/run/docker.sock",
	"/var/run/docker.sock",
	"/run/podman/podman.sock",
	"/run/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock",
	"/run/crio/crio.sock",
	"/run/buildkit/buildkitd.sock",
	"/var/snap/lxd/common/lxd/unix.socket",
	"/var/lib/lxd/unix.socket",
	"/var/lib/incus/unix.socket",
}

// checkSockets reports container sockets the account may connect to
// (connecting needs write permission on the socket and search on the
// directories above it).
func (c *checker) checkSockets() {
	done := map[string]bool{}
	var seen []string
	for _, p := range containerSockets {
		real, st, reach := c.resolve(p)
		if st == nil || !isType(st, unix.S_IFSOCK) || done[real] {
			continue
		}
		done[real] = true
		name := c.host(p)
		if real != p {
			name = fmt.Sprintf("%s (%s)", c.host(p), c.host(real))
		}
		acl := readACL(c.full(real))
		desc := fmt.Sprintf("%s: %s:%s mode %04o", name, c.userName(st.Uid), c.groupName(st.Gid), st.Mode&0o7777)
		if len(acl) > 0 {
			desc += ", ACL " + c.aclText(acl)
		}
		seen = append(seen, desc)
		if !reach {
			continue
		}
		g, ok := c.access(c.full(real), st, permW)
		if !ok {
			continue
		}
		daemon := socketDaemon(real)
		why := fmt.Sprintf("whoever can connect to it asks %s to run a container as root with the host's / mounted", daemon)
		host := c.host(real)
		switch g.kind {
		case byACLUser, byACLGroup:
			who := c.acct.name
			entry := "u:" + who
			if g.kind == byACLGroup {
				who, entry = "group "+g.group, "g:"+g.group
			}
			c.find(KindDockerSocketACL, fmt.Sprintf("a POSIX ACL entry on %s lets %s connect (%s): %s", name, who, c.aclText(acl), why),
				fmt.Sprintf("setfacl -x %s %s, and remove what sets it at boot (a tmpfiles.d line or a %s unit drop-in running setfacl)", entry, host, daemon))
		case byGroup:
			if c.bad[g.group] {
				c.evidence("container socket %s is open to group %s, already reported", name, g.group)
				continue
			}
			c.find(KindContainerSocket, fmt.Sprintf("%s is group %s with mode %04o, and %s is in that group: %s", name, g.group, g.mode, c.acct.name, why),
				fmt.Sprintf("gpasswd -d %s %s (or chgrp root %s, and set SocketGroup=root in the %s socket unit)", c.acct.name, g.group, host, daemon))
		case byOther:
			c.find(KindContainerSocket, fmt.Sprintf("%s is world-writable (mode %04o): %s", name, g.mode, why),
				fmt.Sprintf("chmod o-rw %s (and set SocketMode=0660 in the %s socket unit)", host, daemon))
		default:
			c.find(KindContainerSocket, fmt.Sprintf("%s is %s: %s", name, g.describe(c.acct.name), why),
				fmt.Sprintf("chown root:root %s (and set SocketUser=root in the %s socket unit)", host, daemon))
		}
	}
	if len(seen) == 0 {
		c.evidence("container sockets: none of %s exists", strings.Join(containerSockets, ", "))
	} else {
		c.evidence("container sockets: %s", strings.Join(seen, "; "))
	}
}

func socketDaemon(p string) string {
	for _, d := range []string{"docker", "podman", "containerd", "crio", "buildkit", "lxd", "incus"} {
		if strings.Contains(p, d) {
			return d
		}
	}
	return "the daemon"
}

// aclText writes an ACL the way getfacl's short form does.
func (c *checker) aclText(acl []aclEntry) string {
	var parts []string
	for _, e := range acl {
		perm := ""
		for k, ch := range "rwx" {
			if e.perm&(4>>k) != 0 {
				perm += string(ch)
			} else {
				perm += "-"
			}
		}
		switch e.tag {
		case aclUserObj:
			parts = append(parts, "u::"+perm)
		case aclUser:
			parts = append(parts, "u:"+c.userName(e.id)+":"+perm)
		case aclGroupObj:
			parts = append(parts, "g::"+perm)
		case aclGroup:
			parts = append(parts, "g:"+c.groupName(e.id)+":"+perm)
		case aclMask:
			parts = append(parts, "m::"+perm)
		case aclOther:
			parts = append(parts, "o::"+perm)
		}
	}
	return strings.Join(parts, ",")
}

// resolve follows symbolic links from the host path p and returns the path
// it names, its stat, and whether the account can search every directory on
// the way.
func (c *checker) resolve(p string) (string, *unix.Stat_t, bool) {
	p = path.Clean("/" + p)
	reach := true
	for hops := 0; hops < 40; hops++ {
		var parts []string
		if p != "/" {
			parts = strings.Split(strings.TrimPrefix(p, "/"), "/")
		}
		dir := "/"
		restart := false
		for i, name := range parts {
			dst, err := c.lstat(dir)
			if err != nil {
				return p, nil, false
			}
			if _, ok := c.access(c.full(dir), dst, permX); !ok {
				reach = false
			}
			next := path.Join(dir, name)
			st, err := c.lstat(next)
			if err != nil {
				return p, nil, false
			}
			if isType(st, unix.S_IFLNK) {
				t, err := os.Readlink(c.full(next))
				if err != nil {
					return p, nil, false
				}
				if !path.IsAbs(t) {
					t = path.Join(dir, t)
				}
				p = path.Clean(path.Join(append([]string{t}, parts[i+1:]...)...))
				restart = true
				break
			}
			if i == len(parts)-1 {
				return next, st, reach
			}
			dir = next
		}
		if !restart {
			st, err := c.lstat(p)
			if err != nil {
				return p, nil, false
			}
			return p, st, reach
		}
	}
	return p, nil, false
}
