package boundary

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Permission bits as in a mode's "other" triplet.
const (
	permX = 1
	permW = 2
	permR = 4
)

// grantKind says what gives the account an access.
type grantKind int

const (
	byRoot     grantKind = iota + 1 // the account is uid 0
	byOwner                         // it owns the object, so it may chmod it
	byGroup                         // the group class (mode bits, or the ACL's owning-group entry)
	byOther                         // the other class
	byACLUser                       // a named-user ACL entry
	byACLGroup                      // a named-group ACL entry
)

// grant is how the account gets an access to one object.
type grant struct {
	kind  grantKind
	group string // byGroup, byACLGroup: the group's name
	mode  uint32 // the object's permission bits
}

// describe says how the account may write the object, for messages.
func (g grant) describe(name string) string {
	switch g.kind {
	case byRoot:
		return fmt.Sprintf("writable by %s, which is root", name)
	case byOwner:
		return "owned by " + name
	case byGroup:
		return fmt.Sprintf("group-writable by %s (mode %04o)", g.group, g.mode)
	case byOther:
		return fmt.Sprintf("world-writable (mode %04o)", g.mode)
	case byACLUser:
		return fmt.Sprintf("writable by %s through a POSIX ACL entry", name)
	case byACLGroup:
		return fmt.Sprintf("writable by group %s through a POSIX ACL entry", g.group)
	}
	return "writable"
}

// fix is the command that takes the write access away from obj.
func (g grant) fix(obj, name string) string {
	switch g.kind {
	case byOwner:
		return fmt.Sprintf("chown root:root %s && chmod go-w %s", obj, obj)
	case byGroup:
		return "chmod g-w " + obj
	case byOther:
		return "chmod o-w " + obj
	case byACLUser:
		return fmt.Sprintf("setfacl -x u:%s %s", name, obj)
	case byACLGroup:
		return fmt.Sprintf("setfacl -x g:%s %s", g.group, obj)
	}
	return fmt.Sprintf("give %s an unprivileged uid", name)
}

// POSIX ACL entry tags (linux/posix_acl_xattr.h).
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
)

// aclEntry is one entry of a system.posix_acl_access extended attribute.
type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// parseACL decodes a system.posix_acl_access value: a little-endian version
// (2) and 8-byte entries of tag, permissions and id.
func parseACL(b []byte) ([]aclEntry, error) {
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != 2 || (len(b)-4)%8 != 0 {
		return nil, errors.New("not a version 2 POSIX ACL")
	}
	var out []aclEntry
	for k := 4; k < len(b); k += 8 {
		out = append(out, aclEntry{
			tag:  binary.LittleEndian.Uint16(b[k:]),
			perm: binary.LittleEndian.Uint16(b[k+2:]),
			id:   binary.LittleEndian.Uint32(b[k+4:]),
		})
	}
	return out, nil
}

// readACL returns the access ACL of the file at full (not following a final
// symbolic link), or nil when it has none.
func readACL(full string) []aclEntry {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(full, "system.posix_acl_access", buf)
		if errors.Is(err, unix.ERANGE) && len(buf) < 1<<16 {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil
		}
		acl, err := parseACL(buf[:n])
		if err != nil {
			return nil
		}
		return acl
	}
}

// access reports whether the account has all of want on the object at full
// (stat st), and what grants it, the way the kernel decides: owner, then
// named users, then the groups (owning group and named groups, masked), then
// others. The owner counts as having every access, since it may chmod.
func (c *checker) access(full string, st *unix.Stat_t, want uint32) (grant, bool) {
	g := grant{mode: uint32(st.Mode) & 0o7777}
	if c.acct.uid == 0 {
		g.kind = byRoot
		return g, true
	}
	if st.Uid == c.acct.uid {
		g.kind = byOwner
		return g, true
	}
	_, inOwnGroup := c.acct.groups[st.Gid]
	acl := readACL(full)
	if len(acl) == 0 {
		switch {
		case inOwnGroup:
			g.kind, g.group = byGroup, c.groupName(st.Gid)
			return g, (uint32(st.Mode)>>3)&want == want
		case uint32(st.Mode)&want == want:
			g.kind = byOther
			return g, true
		}
		return g, false
	}
	mask, hasMask := uint16(7), false
	for _, e := range acl {
		if e.tag == aclMask {
			mask, hasMask = e.perm, true
		}
	}
	for _, e := range acl {
		if e.tag == aclUser && e.id == c.acct.uid {
			g.kind = byACLUser
			return g, uint32(e.perm&mask)&want == want
		}
	}
	matched := false
	for _, e := range acl {
		var gid uint32
		switch e.tag {
		case aclGroupObj:
			gid, g.kind = st.Gid, byGroup
		case aclGroup:
			gid, g.kind = e.id, byACLGroup
		default:
			continue
		}
		if _, ok := c.acct.groups[gid]; !ok {
			continue
		}
		matched = true
		p := e.perm
		if hasMask {
			p &= mask
		}
		if uint32(p)&want == want {
			g.group = c.groupName(gid)
			return g, true
		}
	}
	if matched {
		return g, false
	}
	for _, e := range acl {
		if e.tag == aclOther && uint32(e.perm)&want == want {
			g.kind = byOther
			return g, true
		}
	}
	return g, false
}

// lstat stats the host path p under the root without following a final
// symbolic link.
func (c *checker) lstat(p string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Lstat(c.full(p), &st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: c.full(p), Err: err}
	}
	return &st, nil
}

func isType(st *unix.Stat_t, t uint32) bool { return uint32(st.Mode)&unix.S_IFMT == t }

// exposure is how the account can change what a path names.
type exposure struct {
	path    string // the path asked about
	object  string // what the account can change: the path's file, or a directory on the way
	g       grant
	missing bool   // the path (or a directory on it) does not exist and the account can create it
	final   bool   // object is the file or directory the path resolves to
	sticky  bool   // object is a sticky directory (/tmp): shared by design
	via     string // the symbolic link that led there, if any
}

// writable reports how the account can change what the host path p names
// (its content, or what the name refers to), or nil when it cannot. See the
// package documentation, "Can write".
func (c *checker) writable(p string) *exposure {
	p = path.Clean("/" + p)
	if e, ok := c.wcache[p]; ok {
		return e
	}
	e := c.walkPath(p, p, 0)
	c.wcache[p] = e
	return e
}

func (c *checker) walkPath(asked, p string, hops int) *exposure {
	var parts []string
	if p != "/" {
		parts = strings.Split(strings.TrimPrefix(p, "/"), "/")
	}
	dir := "/"
	dst, err := c.lstat(dir)
	if err != nil {
		return nil
	}
	search := true // the account can reach dir
	for i, name := range parts {
		next := path.Join(dir, name)
		est, eerr := c.lstat(next)
		exists := eerr == nil
		if search {
			if g, ok := c.access(c.full(dir), dst, permW|permX); ok {
				sticky := dst.Mode&unix.S_ISVTX != 0
				if !sticky || dst.Uid == c.acct.uid || !exists {
					return &exposure{path: asked, object: dir, g: g, missing: !exists, sticky: sticky}
				}
			}
		}
		if !exists {
			return nil
		}
		if isType(est, unix.S_IFLNK) {
			target, err := os.Readlink(c.full(next))
			if err != nil || hops >= 40 {
				return nil
			}
			if !path.IsAbs(target) {
				target = path.Join(dir, target)
			}
			rest := path.Join(append([]string{target}, parts[i+1:]...)...)
			e := c.walkPath(asked, path.Clean(rest), hops+1)
			if e != nil && e.via == "" {
				e.via = next
			}
			return e
		}
		if i < len(parts)-1 {
			if !isType(est, unix.S_IFDIR) {
				return nil
			}
			if search {
				_, search = c.access(c.full(next), est, permX)
			}
		}
		dir, dst = next, est
	}
	if !search {
		return nil
	}
	want := uint32(permW)
	switch {
	case isType(dst, unix.S_IFREG):
	case isType(dst, unix.S_IFDIR):
		if dst.Mode&unix.S_ISVTX != 0 && dst.Uid != c.acct.uid {
			return nil // a shared sticky directory: others' entries are safe
		}
		want |= permX
	default:
		return nil // devices, sockets, fifos
	}
	if g, ok := c.access(c.full(dir), dst, want); ok {
		return &exposure{path: asked, object: dir, g: g, final: true}
	}
	return nil
}

// describe says, in a clause, how the account can change e.path.
func (c *checker) describe(e *exposure) string {
	name, how := c.acct.name, e.g.describe(c.acct.name)
	var s string
	switch {
	case e.missing:
		s = fmt.Sprintf("%s does not exist and %s can create it: %s is %s", c.host(e.path), name, c.host(e.object), how)
	case e.final && e.object == e.path:
		return fmt.Sprintf("%s is %s", c.host(e.path), how)
	case e.final:
		return fmt.Sprintf("%s resolves to %s, which is %s", c.host(e.path), c.host(e.object), how)
	default:
		s = fmt.Sprintf("%s can replace %s: %s is %s", name, c.host(e.path), c.host(e.object), how)
	}
	if e.via != "" {
		s += fmt.Sprintf(" (reached through the symbolic link %s)", c.host(e.via))
	}
	return s
}

// fix returns the command that closes e. Taking the account's write access
// away from its own home, or from a shared directory like /tmp, would break
// them: then root has to stop using the path instead.
func (c *checker) fix(e *exposure) string {
	home := path.Clean("/" + c.acct.home)
	switch {
	case e.sticky && e.g.kind != byOwner:
		return fmt.Sprintf("make root use a path in a directory only root can write instead of %s (e.g. under /run or /var/lib)", c.host(e.path))
	case home != "/" && (e.object == home || strings.HasPrefix(e.object, home+"/")):
		return fmt.Sprintf("move %s out of %s's home into a root-owned place (e.g. install -o root -g root -m 0755 %s /usr/local/sbin/) and point root at the copy",
			c.host(e.path), c.acct.name, c.host(e.path))
	}
	return e.g.fix(c.host(e.object), c.acct.name)
}

// report files one finding for an exposure, unless its object was reported
// already (then it is evidence): what says where root uses the path ("FILE:3
// runs X as root"), and the finding adds how the account can change it.
func (c *checker) report(kind string, e *exposure, what, also string) {
	d := what + ", and " + c.describe(e)
	if c.seen[e.object] {
		c.evidence("also (reported once above): %s", d)
		return
	}
	c.seen[e.object] = true
	fix := c.fix(e)
	if also != "" {
		fix += "; " + also
	}
	c.find(kind, d, fix)
}
