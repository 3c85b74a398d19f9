// Package boundary checks that an agent's unix account has exactly one route
// to root: the sudoers rule that lets it run clawwarden's root helper as root,
// and nothing else. [Check] lists every other route it finds, each with the
// file or object, why it is root, and the command or edit that closes it;
// `clawwarden enforce install` refuses while the list is not empty, and
// `enforce status` and `assess` report the same list.
//
// # What is checked
//
// Run as root (it runs `sudo -ll -U ACCOUNT` and reads files only root may
// read):
//
//   - sudo: every entry of the account's listing other than (root) and the
//     helper, and Defaults that weaken it (original sudo and sudo-rs);
//   - groups that are root in disguise (sudo, wheel, admin, docker, lxd,
//     incus-admin, libvirt, disk, shadow, root), primary or supplementary;
//   - container sockets (docker, podman, containerd, cri-o, lxd, incus,
//     buildkit) the account may connect to, by mode or POSIX ACL;
//   - polkit rules naming the account or its groups with polkit.Result.YES
//     (a text heuristic) and legacy .pkla authorizations;
//   - root cron jobs and root systemd units that run or read a file the
//     account can change, and unit files it can change;
//   - file capabilities and setuid/setgid bits in a bounded walk of the
//     account's home, /usr/local/bin, /usr/local/sbin and /opt;
//   - doas.conf rules permitting the account;
//   - files and directories root trusts (sudoers, passwd, PAM, ld.so,
//     cron and systemd directories, root's PATH, the helper itself) that the
//     account can change;
//   - the OpenClaw gateway: units that set NoNewPrivileges (or a setting
//     that implies it), under which sudo cannot work, units and running
//     processes that are not the agent account.
//
// # Can write
//
// "Can change" follows the kernel: the owner may chmod, so owning is
// writing; otherwise the group class applies when the file's group (or a
// named ACL group) is one of the account's, and only then, else the other
// class; POSIX ACLs (the system.posix_acl_access extended attribute) are
// decoded and evaluated with their mask. A path can also be changed through
// any directory on the way to it that the account can write and search (it
// renames the entry and puts its own in place), except in a sticky directory
// where it owns neither the directory nor the entry; a path that does not
// exist counts when the account can create it; symbolic links are followed
// and both sides are checked. Sticky shared directories such as /tmp are not
// findings by themselves. Device files are never findings.
//
// # Limits
//
// Group membership is read from /etc/passwd and /etc/group under
// Options.Root: NSS sources such as LDAP or sssd are not consulted (sudo's own
// listing does consult them). The polkit check reads JavaScript as text. Cron
// and unit command lines are split the way a shell would split simple
// commands; what a script does inside is not followed, only its file and its
// interpreter. The walk stops after Options.WalkLimit entries and says so in
// Report.Incomplete. A TCP listener of a container daemon is not checked.
package boundary

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Kinds of [Finding]: stable identifiers that callers and reports key on.
const (
	KindUnverified      = "unverified"        // a check could not run, so the boundary is not known to hold
	KindRootAccount     = "root-account"      // the account is uid 0
	KindSudoRight       = "sudo-right"        // a sudo entry other than (root) and the helper
	KindSudoDefaults    = "sudo-defaults"     // a sudo Default that weakens the helper's rule
	KindGroup           = "group"             // membership of a group that is root in disguise
	KindDockerSocketACL = "docker-socket-acl" // a POSIX ACL entry opens a container socket
	KindContainerSocket = "container-socket"  // the socket's owner, group or mode opens it
	KindPolkit          = "polkit"            // a polkit rule or .pkla authorizes the account
	KindCron            = "cron"              // a root cron job runs or reads a file the account can change
	KindSystemdUnit     = "systemd-unit"      // a root unit runs or reads a file the account can change, or the unit file itself
	KindFileCapability  = "file-capability"   // file capabilities on a file the account controls or may run
	KindSetuidOwned     = "setuid-owned"      // a setuid or setgid file owned by the account
	KindDoas            = "doas"              // a doas.conf rule permits the account
	KindRootFile        = "root-file"         // a file or directory root trusts that the account can change
	KindNoNewPrivileges = "no-new-privileges" // the gateway runs with no_new_privs: sudo cannot work there
	KindGatewayUser     = "gateway-user"      // the gateway does not run as the agent account
)

// DefaultHelper is where `clawwarden enforce install` puts the root helper.
const DefaultHelper = "/usr/local/libexec/clawwarden/clawwarden-root"

// DefaultWalkLimit bounds the walk for file capabilities and setuid files.
const DefaultWalkLimit = 200000

// Options say whose boundary [Check] examines, and where.
type Options struct {
	// Account is the agent's unix account name; its uid, groups and home
	// are read from etc/passwd and etc/group under Root.
	Account string
	// Helper is the absolute path of the root helper, the one sudo right
	// the account may have ((root) only, with any arguments). "" means the
	// account should have no sudo right at all.
	Helper string
	// Root is the filesystem root under which /etc, /var, /run, /usr, /opt,
	// homes and /proc are read; "" means "/". It does not apply to sudo:
	// see Sudo.
	Root string
	// Sudo runs sudo as root; nil runs the real sudo (found in
	// rootfile.SecurePath, with LC_ALL=C). The real sudo reads the real
	// sudoers whatever Root is, so tests with a fake Root pass a Runner.
	Sudo Runner
	// WalkLimit bounds the entries visited by the walk for file
	// capabilities and setuid files; 0 means DefaultWalkLimit.
	WalkLimit int
}

// Runner runs sudo with args ("-ll", "-U", "openclaw") and returns its
// standard output. An error wrapping exec.ErrNotFound means sudo is not
// installed.
type Runner func(ctx context.Context, args ...string) ([]byte, error)

// Finding is one route to root other than the helper.
type Finding struct {
	Kind   string `json:"kind"`   // one of the Kind constants
	Detail string `json:"detail"` // names the file:line or object and why it is root
	Fix    string `json:"fix"`    // the command or edit that closes it
}

// Report is what [Check] found.
type Report struct {
	Account  string    `json:"account"`
	UID      int       `json:"uid"` // -1 when the account is unknown
	Groups   []string  `json:"groups,omitempty"`
	Findings []Finding `json:"findings"`
	// Evidence says what was checked, one line each, including what was
	// looked at and found harmless.
	Evidence []string `json:"evidence"`
	// Incomplete names what could be checked only in part (a truncated walk,
	// an unreadable file). It does not make the report unclean.
	Incomplete []string `json:"incomplete,omitempty"`
}

// Clean reports whether no other route to root was found.
func (r Report) Clean() bool { return len(r.Findings) == 0 }

// Check examines the account's routes to root; see the package
// documentation for what it reads. It must run as root to be complete: as
// another user, sudo cannot list the account's rights (a KindUnverified
// finding) and unreadable files are listed in Report.Incomplete.
func Check(ctx context.Context, o Options) Report {
	root := o.Root
	if abs, err := filepath.Abs(root); err == nil && root != "" {
		root = abs
	}
	c := &checker{
		o:      o,
		root:   strings.TrimSuffix(filepath.Clean("/"+root), "/"),
		r:      &Report{Account: o.Account, UID: -1, Findings: []Finding{}, Evidence: []string{}},
		seen:   map[string]bool{},
		wcache: map[string]*exposure{},
	}
	if o.Helper != "" && !path.IsAbs(o.Helper) {
		c.find(KindUnverified, fmt.Sprintf("the helper path %q is not absolute", o.Helper),
			"pass the helper's absolute path, e.g. "+DefaultHelper)
		return *c.r
	}
	if err := c.lookupAccount(); err != nil {
		c.find(KindUnverified, fmt.Sprintf("cannot check account %q: %v", o.Account, err),
			fmt.Sprintf("create the agent account first: useradd --system --create-home %s", o.Account))
		return *c.r
	}
	c.r.UID = int(c.acct.uid)
	for _, g := range c.acct.groupList() {
		c.r.Groups = append(c.r.Groups, g.name)
	}
	if c.acct.uid == 0 {
		c.find(KindRootAccount, fmt.Sprintf("%s has uid 0 in %s: it is root", c.acct.name, c.host("/etc/passwd")),
			fmt.Sprintf("give %s its own unprivileged uid: usermod -u UID %s (or create a new agent account)", c.acct.name, c.acct.name))
	}
	c.checkSudo(ctx)
	c.checkGroups()
	c.checkSockets()
	c.checkPolkit()
	c.checkDoas()
	c.checkRootFiles()
	c.checkCron()
	c.checkSystemd()
	c.checkWalk(ctx)
	c.checkGateway()
	return *c.r
}

// checker holds the state of one Check.
type checker struct {
	o       Options
	root    string // the prefix, "" for /
	acct    account
	r       *Report
	seen    map[string]bool      // exposure objects already reported
	wcache  map[string]*exposure // writable answers by path
	bad     map[string]bool      // groups already reported as root in disguise
	units   []*unit              // parsed system units, shared by systemd and gateway checks
	pw      *[]passwdEntry
	sudoers *[]sudoersLine
	gr      *[]groupEntry
}

// full returns where the host path p is read from.
func (c *checker) full(p string) string { return c.root + path.Clean("/"+p) }

// host returns how the host path p is named in messages: as read, so a fake
// root shows in tests.
func (c *checker) host(p string) string { return c.full(p) }

func (c *checker) find(kind, detail, fix string) {
	c.r.Findings = append(c.r.Findings, Finding{Kind: kind, Detail: detail, Fix: fix})
}

func (c *checker) evidence(format string, args ...any) {
	c.r.Evidence = append(c.r.Evidence, fmt.Sprintf(format, args...))
}

func (c *checker) incomplete(format string, args ...any) {
	c.r.Incomplete = append(c.r.Incomplete, fmt.Sprintf(format, args...))
}

// account is the agent's unix identity.
type account struct {
	name   string
	uid    uint32
	gid    uint32            // primary group
	groups map[uint32]string // every group it is in, primary included
	home   string
}

type group struct {
	gid     uint32
	name    string
	primary bool
}

// groupList returns the account's groups, primary first, then by gid.
func (a account) groupList() []group {
	var out []group
	for gid, name := range a.groups {
		out = append(out, group{gid: gid, name: name, primary: gid == a.gid})
	}
	slices.SortFunc(out, func(x, y group) int {
		switch {
		case x.primary:
			return -1
		case y.primary:
			return 1
		}
		return int(x.gid) - int(y.gid)
	})
	return out
}

// groupName names gid for messages.
func (c *checker) groupName(gid uint32) string {
	if n, ok := c.acct.groups[gid]; ok {
		return n
	}
	for _, e := range c.groupFile() {
		if e.gid == gid {
			return e.name
		}
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// userName names uid for messages.
func (c *checker) userName(uid uint32) string {
	for _, e := range c.passwd() {
		if e.uid == uid {
			return e.name
		}
	}
	return "uid " + strconv.FormatUint(uint64(uid), 10)
}

// fileOf returns the file of a "FILE:LINE" origin.
func fileOf(origin string) string {
	if i := strings.LastIndexByte(origin, ':'); i >= 0 {
		return origin[:i]
	}
	return origin
}
