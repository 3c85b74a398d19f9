package boundary

import (
	"io/fs"
	"testing"
)

// TestWritable checks the "can write" rule on files with controlled owners,
// modes and ACLs.
func TestWritable(t *testing.T) {
	dir := func(p string, mode uint32, uid, gid int) node {
		return node{path: p, dir: true, mode: fsMode(mode), uid: uid, gid: gid}
	}
	file := func(p string, mode uint32, uid, gid int) node {
		return node{path: p, mode: fsMode(mode), uid: uid, gid: gid, content: "x"}
	}
	tests := []struct {
		name   string
		nodes  []node
		path   string
		object string // "" means not writable
		how    string // substring of the description
	}{
		{name: "root-owned 0644", nodes: []node{file("opt/f", 0o644, 0, 0)}, path: "/opt/f"},
		{name: "owned by the agent, even 0400", nodes: []node{file("opt/f", 0o400, agentUID, 0)}, path: "/opt/f", object: "/opt/f", how: "owned by cwb-agent"},
		{name: "group-writable, agent's group", nodes: []node{file("opt/f", 0o664, 0, agentsGID)}, path: "/opt/f", object: "/opt/f", how: "group-writable by agents (mode 0664)"},
		{name: "group-writable, other group", nodes: []node{file("opt/f", 0o664, 0, otherUID)}, path: "/opt/f"},
		{name: "world-writable", nodes: []node{file("opt/f", 0o666, 0, 0)}, path: "/opt/f", object: "/opt/f", how: "world-writable (mode 0666)"},
		// The group class decides for members: other's w does not apply.
		{name: "group class denies before other", nodes: []node{file("opt/f", 0o646, 0, agentsGID)}, path: "/opt/f"},
		{name: "ACL named user", nodes: []node{{path: "opt/f", content: "x", mode: 0o664, acl: minimalACL(6, 4, 4, 6, aclEntry{tag: aclUser, perm: 6, id: agentUID})}},
			path: "/opt/f", object: "/opt/f", how: "writable by cwb-agent through a POSIX ACL entry"},
		{name: "ACL named user, masked", nodes: []node{{path: "opt/f", content: "x", mode: 0o644, acl: minimalACL(6, 4, 4, 4, aclEntry{tag: aclUser, perm: 6, id: agentUID})}},
			path: "/opt/f"},
		{name: "ACL named group", nodes: []node{{path: "opt/f", content: "x", mode: 0o664, acl: minimalACL(6, 4, 4, 6, aclEntry{tag: aclGroup, perm: 6, id: agentsGID})}},
			path: "/opt/f", object: "/opt/f", how: "writable by group agents through a POSIX ACL entry"},
		{name: "ACL named user denies before other", nodes: []node{{path: "opt/f", content: "x", mode: 0o646, acl: minimalACL(6, 4, 6, 4, aclEntry{tag: aclUser, perm: 4, id: agentUID})}},
			path: "/opt/f"},
		{name: "parent directory writable", nodes: []node{dir("opt/app", 0o775, 0, agentsGID), file("opt/app/run", 0o755, 0, 0)},
			path: "/opt/app/run", object: "/opt/app", how: "cwb-agent can replace $ROOT/opt/app/run: $ROOT/opt/app is group-writable by agents (mode 0775)"},
		{name: "grandparent directory writable", nodes: []node{dir("opt", 0o777, 0, 0), dir("opt/app", 0o755, 0, 0), file("opt/app/run", 0o755, 0, 0)},
			path: "/opt/app/run", object: "/opt", how: "$ROOT/opt is world-writable (mode 0777)"},
		{name: "missing in a writable directory", nodes: []node{dir("opt/app", 0o755, agentUID, 0)},
			path: "/opt/app/run", object: "/opt/app", how: "$ROOT/opt/app/run does not exist and cwb-agent can create it"},
		{name: "missing in a read-only directory", nodes: []node{dir("opt/app", 0o755, 0, 0)}, path: "/opt/app/run"},
		{name: "root's file in a sticky directory", nodes: []node{dir("tmp", 0o1777, 0, 0), file("tmp/f", 0o644, 0, 0)}, path: "/tmp/f"},
		{name: "the agent's file in a sticky directory", nodes: []node{dir("tmp", 0o1777, 0, 0), file("tmp/f", 0o644, agentUID, 0)},
			path: "/tmp/f", object: "/tmp/f", how: "owned by cwb-agent"},
		{name: "missing in a sticky directory", nodes: []node{dir("tmp", 0o1777, 0, 0)}, path: "/tmp/f", object: "/tmp", how: "does not exist"},
		{name: "a sticky directory itself", nodes: []node{dir("tmp", 0o1777, 0, 0)}, path: "/tmp"},
		{name: "writable directory behind an unsearchable one", nodes: []node{dir("opt/locked", 0o700, 0, 0), dir("opt/locked/w", 0o777, 0, 0), file("opt/locked/w/f", 0o644, 0, 0)},
			path: "/opt/locked/w/f"},
		{name: "symbolic link to the agent's file", nodes: []node{file("home/cwb-agent/x", 0o755, agentUID, agentGID), {path: "usr/local/bin/x", link: "/home/cwb-agent/x"}},
			path: "/usr/local/bin/x", object: "/home/cwb-agent/x", how: "$ROOT/usr/local/bin/x resolves to $ROOT/home/cwb-agent/x, which is owned by cwb-agent"},
		{name: "relative symbolic link into a writable directory", nodes: []node{dir("srv/w", 0o777, 0, 0), file("srv/w/x", 0o755, 0, 0), {path: "usr/local/bin/x", link: "../../../srv/w/x"}},
			path: "/usr/local/bin/x", object: "/srv/w", how: "reached through the symbolic link $ROOT/usr/local/bin/x"},
		{name: "a world-writable device", nodes: []node{{path: "dev/null", mode: 0o666, dev: true}}, path: "/dev/null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, tt.nodes...)
			c := newChecker(t, root)
			e := c.writable(tt.path)
			switch {
			case tt.object == "" && e != nil:
				t.Errorf("writable(%s) = %s, want not writable", tt.path, c.describe(e))
			case tt.object != "" && e == nil:
				t.Errorf("writable(%s) = not writable, want %s", tt.path, tt.object)
			case e != nil:
				if e.object != tt.object {
					t.Errorf("writable(%s).object = %s, want %s", tt.path, e.object, tt.object)
				}
				if d := c.describe(e); !containsAll(d, []string{tt.how}, root) {
					t.Errorf("describe = %q, want it to contain %q", d, tt.how)
				}
			}
		})
	}
}

// fsMode turns a mode written in octal (0o4755) into an fs.FileMode.
func fsMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// newChecker returns a checker for the agent on root.
func newChecker(t *testing.T, root string) *checker {
	t.Helper()
	c := &checker{o: Options{Account: agent, Root: root}, root: root, r: &Report{}, seen: map[string]bool{}, wcache: map[string]*exposure{}}
	must(t, c.lookupAccount())
	return c
}
