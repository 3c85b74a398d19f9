package boundary

import (
	"context"
	"encoding/binary"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/clawwarden/clawwarden/internal/testenv"
)

// The accounts of the fake roots.
const (
	agent     = "cwb-agent"
	agentUID  = 4242
	agentGID  = 4242
	otherUID  = 4343
	agentsGID = 4300 // "agents": a harmless supplementary group of the agent
	dockerGID = 998
)

const basePasswd = `root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
cwb-agent:x:4242:4242::/home/cwb-agent:/bin/sh
cwb-other:x:4343:4343::/home/cwb-other:/bin/sh
`

const baseGroup = `root:x:0:
adm:x:4:cwb-agent
disk:x:6:
sudo:x:27:
kvm:x:993:cwb-agent
docker:x:998:
cwb-agent:x:4242:
agents:x:4300:cwb-agent
cwb-other:x:4343:
`

// node is a file, directory, symbolic link or socket of a fake root.
type node struct {
	path     string      // relative to the root
	content  string      // a regular file's content
	mode     fs.FileMode // permission and setuid/setgid/sticky bits; 0644 or 0755 when 0
	uid, gid int
	dir      bool
	link     string // a symbolic link's target
	sock     bool   // a listening unix socket
	dev      bool   // a character device (1, 3), like /dev/null
	acl      []aclEntry
	caps     []byte // security.capability
}

// newRoot builds a fake root in a temporary directory: etc/passwd and
// etc/group (unless given), then the nodes in order. Directories on the way
// are root-owned, mode 0755.
func newRoot(t *testing.T, nodes ...node) string {
	t.Helper()
	requireRoot(t)
	root := t.TempDir()
	must(t, os.Chmod(root, 0o755))
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.path] = true
	}
	if !have["etc/passwd"] {
		nodes = append([]node{{path: "etc/passwd", content: basePasswd}}, nodes...)
	}
	if !have["etc/group"] {
		nodes = append([]node{{path: "etc/group", content: baseGroup}}, nodes...)
	}
	for _, n := range nodes {
		full := filepath.Join(root, n.path)
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		mode := n.mode
		switch {
		case n.link != "":
			must(t, os.Symlink(n.link, full))
			must(t, os.Lchown(full, n.uid, n.gid))
			continue
		case n.dir:
			if mode == 0 {
				mode = 0o755
			}
			if err := os.Mkdir(full, 0o700); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		case n.dev:
			must(t, unix.Mknod(full, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))))
		case n.sock:
			if mode == 0 {
				mode = 0o660
			}
			l, err := net.Listen("unix", full)
			must(t, err)
			t.Cleanup(func() { l.Close() })
		default:
			if mode == 0 {
				mode = 0o644
			}
			must(t, os.WriteFile(full, []byte(n.content), 0o600))
		}
		must(t, os.Lchown(full, n.uid, n.gid))
		must(t, os.Chmod(full, mode.Perm()|mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)))
		if n.acl != nil {
			must(t, unix.Setxattr(full, "system.posix_acl_access", encodeACL(n.acl), 0))
		}
		if n.caps != nil {
			must(t, unix.Setxattr(full, "security.capability", n.caps, 0))
		}
	}
	return root
}

// encodeACL is the inverse of parseACL.
func encodeACL(acl []aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range acl {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// minimalACL is the ACL a mode implies plus extra entries and a mask.
func minimalACL(owner, group, other uint16, mask uint16, extra ...aclEntry) []aclEntry {
	acl := []aclEntry{{tag: aclUserObj, perm: owner, id: 0xffffffff}}
	for _, e := range extra {
		if e.tag == aclUser {
			acl = append(acl, e)
		}
	}
	acl = append(acl, aclEntry{tag: aclGroupObj, perm: group, id: 0xffffffff})
	for _, e := range extra {
		if e.tag == aclGroup {
			acl = append(acl, e)
		}
	}
	return append(acl, aclEntry{tag: aclMask, perm: mask, id: 0xffffffff}, aclEntry{tag: aclOther, perm: other, id: 0xffffffff})
}

// encodeCaps writes a VFS_CAP_REVISION_2 security.capability value.
func encodeCaps(permitted uint64, effective bool) []byte {
	magic := uint32(0x02000000)
	if effective {
		magic |= 1
	}
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(permitted))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(permitted>>32))
	return binary.LittleEndian.AppendUint32(b, 0)
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root: the fake roots hold files owned by other accounts")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// listing returns a Runner that prints text for `sudo -ll -U`.
func listing(text string) Runner {
	return func(ctx context.Context, args ...string) ([]byte, error) { return []byte(text), nil }
}

// notAllowed is a Runner for an account without sudo rights.
var notAllowed = listing("User cwb-agent is not allowed to run sudo on vm.\n")

// check runs Check on a fake root for the agent, with no sudo rights.
func check(t *testing.T, root string) Report {
	t.Helper()
	return Check(context.Background(), Options{Account: agent, Helper: DefaultHelper, Root: root, Sudo: notAllowed})
}

// want is an expected finding: its kind and substrings of its detail and
// fix ("$ROOT" is the fake root).
type want struct {
	kind   string
	detail []string
	fix    []string
}

// expect fails unless r's findings are exactly ws, in any order.
func expect(t *testing.T, r Report, root string, ws ...want) {
	t.Helper()
	used := make([]bool, len(r.Findings))
	for _, w := range ws {
		found := false
		for i, f := range r.Findings {
			if used[i] || f.Kind != w.kind || !containsAll(f.Detail, w.detail, root) || !containsAll(f.Fix, w.fix, root) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			t.Errorf("no %s finding with detail %q and fix %q", w.kind, w.detail, w.fix)
		}
	}
	for i, f := range r.Findings {
		if !used[i] {
			t.Errorf("unexpected finding %s: %s (fix: %s)", f.Kind, f.Detail, f.Fix)
		}
	}
	if t.Failed() {
		t.Logf("evidence:\n%s\nincomplete:\n%s", strings.Join(r.Evidence, "\n"), strings.Join(r.Incomplete, "\n"))
	}
}

func containsAll(s string, subs []string, root string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, strings.ReplaceAll(sub, "$ROOT", root)) {
			return false
		}
	}
	return true
}
