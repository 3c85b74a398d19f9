package boundary

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

// groupEntry is one line of /etc/group.
type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// passwd returns the entries of etc/passwd under the root (read once).
func (c *checker) passwd() []passwdEntry {
	if c.pw != nil {
		return *c.pw
	}
	var out []passwdEntry
	b, err := os.ReadFile(c.full("/etc/passwd"))
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) < 7 || strings.HasPrefix(line, "#") {
				continue
			}
			uid, err1 := strconv.ParseUint(f[2], 10, 32)
			gid, err2 := strconv.ParseUint(f[3], 10, 32)
			if err1 != nil || err2 != nil {
				continue
			}
			out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
		}
	}
	c.pw = &out
	return out
}

// groupFile returns the entries of etc/group under the root (read once).
func (c *checker) groupFile() []groupEntry {
	if c.gr != nil {
		return *c.gr
	}
	var out []groupEntry
	b, err := os.ReadFile(c.full("/etc/group"))
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) < 4 || strings.HasPrefix(line, "#") {
				continue
			}
			gid, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil {
				continue
			}
			e := groupEntry{name: f[0], gid: uint32(gid)}
			for m := range strings.SplitSeq(f[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					e.members = append(e.members, m)
				}
			}
			out = append(out, e)
		}
	}
	c.gr = &out
	return out
}

// lookupAccount fills c.acct from etc/passwd and etc/group.
func (c *checker) lookupAccount() error {
	name := c.o.Account
	if name == "" {
		return errors.New("no account name")
	}
	if _, err := os.Stat(c.full("/etc/passwd")); err != nil {
		return err
	}
	for _, e := range c.passwd() {
		if e.name != name {
			continue
		}
		c.acct = account{name: name, uid: e.uid, gid: e.gid, home: e.home, groups: map[uint32]string{}}
		c.acct.groups[e.gid] = strconv.FormatUint(uint64(e.gid), 10)
		for _, g := range c.groupFile() {
			if g.gid == e.gid {
				c.acct.groups[g.gid] = g.name
			}
			for _, m := range g.members {
				if m == name {
					c.acct.groups[g.gid] = g.name
				}
			}
		}
		var gs []string
		for _, g := range c.acct.groupList() {
			gs = append(gs, fmt.Sprintf("%s(%d)", g.name, g.gid))
		}
		c.evidence("account %s: uid %d, home %s, groups %s (from %s and %s)", name, e.uid, e.home,
			strings.Join(gs, " "), c.host("/etc/passwd"), c.host("/etc/group"))
		return nil
	}
	return fmt.Errorf("no such account in %s", c.host("/etc/passwd"))
}

// isRootName reports whether a user name (or "#uid") in a config is uid 0.
func (c *checker) isRootName(name string) bool {
	if name == "root" || name == "0" || name == "#0" {
		return true
	}
	for _, e := range c.passwd() {
		if e.name == name && e.uid == 0 {
			return true
		}
	}
	return false
}

// isAccount reports whether a user name or number in a config is the
// account.
func (c *checker) isAccount(s string) bool {
	s = strings.TrimPrefix(s, "#")
	return s == c.acct.name || s == strconv.FormatUint(uint64(c.acct.uid), 10)
}

// groupOf returns the gid of the account's group named or numbered s.
func (c *checker) groupOf(s string) (uint32, bool) {
	s = strings.TrimPrefix(s, "#")
	for gid, n := range c.acct.groups {
		if n == s || strconv.FormatUint(uint64(gid), 10) == s {
			return gid, true
		}
	}
	return 0, false
}
