package sockets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// brief renders a socket compactly for comparisons:
// "tcp6 LISTEN [::]:8080 -> invalid AddrPort ino=24538 uid=0 pid=0 node".
func brief(s Socket) string {
	remote := "-"
	if s.Remote.IsValid() {
		remote = s.Remote.String()
	}
	return fmt.Sprintf("%s%d %s %s %s ino=%d uid=%d pid=%d %s", s.Proto, s.Family, s.State, s.Local, remote, s.Inode, s.UID, s.PID, s.Process)
}

func briefs(ss []Socket) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = brief(s)
	}
	return out
}

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestParseProcNet(t *testing.T) {
	all := Options{Listening: true, Established: true}
	listen := Options{Listening: true}
	est := Options{Established: true}
	tests := []struct {
		file   string
		proto  string
		family int
		opts   Options
		want   []string
	}{
		{"tcp", TCP, 4, all, []string{
			"tcp4 LISTEN 127.0.0.1:18789 - ino=24536 uid=0 pid=0 ",
			"tcp4 LISTEN 0.0.0.0:23 - ino=24537 uid=0 pid=0 ",
			"tcp4 ESTABLISHED 127.0.0.1:18789 127.0.0.1:57616 ino=24544 uid=0 pid=0 ",
			"tcp4 ESTABLISHED 10.200.9.1:23 10.200.9.1:55476 ino=0 uid=0 pid=0 ",
			"tcp4 ESTABLISHED 127.0.0.1:57616 127.0.0.1:18789 ino=24543 uid=0 pid=0 ",
		}},
		{"tcp", TCP, 4, listen, []string{
			"tcp4 LISTEN 127.0.0.1:18789 - ino=24536 uid=0 pid=0 ",
			"tcp4 LISTEN 0.0.0.0:23 - ino=24537 uid=0 pid=0 ",
		}},
		{"tcp6", TCP, 6, all, []string{
			"tcp6 LISTEN [::1]:6379 - ino=24539 uid=0 pid=0 ",
			"tcp6 LISTEN [::]:8080 - ino=24538 uid=0 pid=0 ",
			"tcp6 ESTABLISHED 10.200.9.1:55476 10.200.9.1:23 ino=24547 uid=0 pid=0 ",
			"tcp6 ESTABLISHED [::1]:48786 [::1]:6379 ino=24545 uid=0 pid=0 ",
			"tcp6 ESTABLISHED [::1]:6379 [::1]:48786 ino=24546 uid=0 pid=0 ",
		}},
		{"udp", UDP, 4, all, []string{
			"udp4 UNCONN 10.200.9.1:161 - ino=24540 uid=0 pid=0 ",
			"udp4 ESTABLISHED 10.200.9.1:43772 10.200.9.1:161 ino=24542 uid=0 pid=0 ",
		}},
		{"udp", UDP, 4, est, []string{
			"udp4 ESTABLISHED 10.200.9.1:43772 10.200.9.1:161 ino=24542 uid=0 pid=0 ",
		}},
		{"udp6", UDP, 6, listen, []string{
			"udp6 UNCONN [::]:5353 - ino=24541 uid=0 pid=0 ",
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.file, tt.opts), func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "proc", "net", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []Socket
			err = parseProcNet(f, tt.proto, tt.family, tt.opts.stateMask(tt.proto), func(s Socket) { got = append(got, s) })
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, briefs(got), tt.want)
		})
	}
}

func TestParseProcNetErrors(t *testing.T) {
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name, line, want string
	}{
		{"short", "   0: 0100007F:4965 00000000:0000 0A\n", "fields"},
		{"bad state", "   0: 0100007F:4965 00000000:0000 ZZ 0:0 0:0 0 0 0 1\n", "state"},
		{"bad address", "   0: 0100007:4965 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "hex digits"},
		{"bad hex", "   0: 0100007G:4965 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "hex digit"},
		{"no port", "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 1\n", "no port"},
		{"bad inode", "   0: 0100007F:4965 00000000:0000 0A 0:0 0:0 0 0 0 x\n", "inode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parseProcNet(strings.NewReader(header+tt.line), TCP, 4, ^uint32(0), func(Socket) {})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseLsof(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"lsof-linux.txt", []string{
			"tcp4 LISTEN 127.0.0.1:18789 - ino=0 uid=0 pid=11696 python3",
			"tcp4 LISTEN 0.0.0.0:23 - ino=0 uid=0 pid=11696 python3",
			"tcp6 LISTEN [::]:8080 - ino=0 uid=0 pid=11696 python3",
			"tcp6 LISTEN [::1]:6379 - ino=0 uid=0 pid=11696 python3",
			"udp4 UNCONN 10.200.9.1:161 - ino=0 uid=0 pid=11696 python3",
			"udp6 UNCONN [::]:5353 - ino=0 uid=0 pid=11696 python3",
			"udp4 ESTABLISHED 10.200.9.1:43772 10.200.9.1:161 ino=0 uid=0 pid=11696 python3",
			"tcp4 ESTABLISHED 127.0.0.1:57616 127.0.0.1:18789 ino=0 uid=0 pid=11696 python3",
			"tcp4 ESTABLISHED 127.0.0.1:18789 127.0.0.1:57616 ino=0 uid=0 pid=11696 python3",
			"tcp6 ESTABLISHED [::1]:48786 [::1]:6379 ino=0 uid=0 pid=11696 python3",
			"tcp6 ESTABLISHED [::1]:6379 [::1]:48786 ino=0 uid=0 pid=11696 python3",
			"tcp6 ESTABLISHED 10.200.9.1:55476 10.200.9.1:23 ino=0 uid=0 pid=11696 python3",
		}},
		{"lsof-darwin.txt", []string{
			"udp4 UNCONN 0.0.0.0:5353 - ino=0 uid=65 pid=88 mDNSResponder",
			"udp6 UNCONN [::]:5353 - ino=0 uid=65 pid=88 mDNSResponder",
			"udp4 UNCONN 0.0.0.0:0 - ino=0 uid=65 pid=88 mDNSResponder",
			"tcp6 LISTEN [::]:7000 - ino=0 uid=501 pid=201 ControlCenter",
			"tcp4 LISTEN 0.0.0.0:18789 - ino=0 uid=501 pid=412 node",
			"tcp4 ESTABLISHED 192.168.1.20:52144 104.18.33.45:443 ino=0 uid=501 pid=412 node",
			"tcp6 LISTEN [::1]:18792 - ino=0 uid=501 pid=412 node",
			"tcp6 CLOSE_WAIT 192.168.1.20:52150 17.253.144.10:443 ino=0 uid=501 pid=412 node",
			"tcp4 ESTABLISHED 192.168.1.20:50122 10.0.0.5:22 ino=0 uid=501 pid=1023 ssh",
			"udp6 UNCONN [fe80::1%lo0]:3722 - ino=0 uid=501 pid=2211 rapportd",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseLsof(f)
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, briefs(got), tt.want)
		})
	}
}

func TestParseLsofErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"bad pid", "pabc\n", "pid"},
		{"bad address", "p1\nf3\ntIPv4\nPTCP\nn127.0.0.1\n", "no port"},
		{"bad host", "p1\nf3\ntIPv4\nPTCP\nnlocalhost:80\n", "localhost"},
		{"bad port", "p1\nf3\ntIPv4\nPTCP\nn127.0.0.1:http\n", "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLsof(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseNetstat(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "netstat-darwin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseNetstat(f)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, briefs(got), []string{
		"tcp4 ESTABLISHED 192.168.1.20:52144 104.18.33.45:443 ino=0 uid=-1 pid=0 ",
		"tcp4 ESTABLISHED 192.168.1.20:50122 10.0.0.5:22 ino=0 uid=-1 pid=0 ",
		"tcp4 LISTEN 0.0.0.0:18789 - ino=0 uid=-1 pid=0 ",
		"tcp6 LISTEN [::1]:18792 - ino=0 uid=-1 pid=0 ",
		"tcp6 LISTEN [::]:7000 - ino=0 uid=-1 pid=0 ",
		"tcp4 LISTEN 0.0.0.0:22 - ino=0 uid=-1 pid=0 ",
		"tcp6 LISTEN [::]:22 - ino=0 uid=-1 pid=0 ",
		"tcp4 LISTEN 127.0.0.1:6379 - ino=0 uid=-1 pid=0 ",
		"udp4 UNCONN 0.0.0.0:5353 - ino=0 uid=-1 pid=0 ",
		"udp6 UNCONN [::]:5353 - ino=0 uid=-1 pid=0 ",
		"udp4 ESTABLISHED 192.168.1.20:61000 1.1.1.1:53 ino=0 uid=-1 pid=0 ",
		"udp6 UNCONN [::]:0 - ino=0 uid=-1 pid=0 ",
		"udp6 UNCONN [fe80::1%lo0]:3722 - ino=0 uid=-1 pid=0 ",
	})
}

// TestMergeNetstat models an unprivileged macOS scan: lsof sees the user's
// own processes, netstat adds root's sshd, a root-owned redis and another
// user's DNS socket without an owner.
func TestMergeNetstat(t *testing.T) {
	open := func(name string) *os.File {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	fromLsof, err := ParseLsof(open("lsof-darwin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	fromNetstat, err := ParseNetstat(open("netstat-darwin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	merged, added := mergeNetstat(fromLsof, fromNetstat)
	if added != 5 {
		t.Errorf("added %d sockets, want 5", added)
	}
	diffLines(t, briefs(merged[len(fromLsof):]), []string{
		"tcp4 LISTEN 0.0.0.0:22 - ino=0 uid=-1 pid=0 ",
		"tcp6 LISTEN [::]:22 - ino=0 uid=-1 pid=0 ",
		"tcp4 LISTEN 127.0.0.1:6379 - ino=0 uid=-1 pid=0 ",
		"udp4 ESTABLISHED 192.168.1.20:61000 1.1.1.1:53 ino=0 uid=-1 pid=0 ",
		"udp6 UNCONN [::]:0 - ino=0 uid=-1 pid=0 ",
	})
}

func TestParsePS(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "ps-darwin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParsePS(f)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pid  int
		want string
	}{
		{412, "/opt/homebrew/Cellar/node/24.1.0/bin/node"},
		{88, "/usr/sbin/mDNSResponder"},
		{201, "/System/Library/CoreServices/ControlCenter.app/Contents/MacOS/ControlCenter"},
		{3000, ""}, // "(zsh)": not a path
		{9999, ""},
	}
	for _, tt := range tests {
		if got[tt.pid] != tt.want {
			t.Errorf("pid %d: got %q, want %q", tt.pid, got[tt.pid], tt.want)
		}
	}
}

func TestSocketInode(t *testing.T) {
	tests := []struct {
		link string
		want uint64
		ok   bool
	}{
		{"socket:[24536]", 24536, true},
		{"socket:[]", 0, false},
		{"socket:[12a]", 0, false},
		{"pipe:[123]", 0, false},
		{"/dev/null", 0, false},
		{"anon_inode:[eventpoll]", 0, false},
	}
	for _, tt := range tests {
		got, ok := socketInode([]byte(tt.link))
		if got != tt.want || ok != tt.ok {
			t.Errorf("socketInode(%q) = %d, %v; want %d, %v", tt.link, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCollector(t *testing.T) {
	for _, hint := range []int{0, 1, 100, 5000} {
		for _, n := range []int{0, 1, 64, 65, 200, 1000} {
			c := newCollector(hint)
			for i := range n {
				c.add(Socket{Inode: uint64(i)})
			}
			got := c.sockets()
			if len(got) != n || (n == 0) != (got == nil) {
				t.Fatalf("hint %d, %d added: got %d (nil %v)", hint, n, len(got), got == nil)
			}
			for i, s := range got {
				if s.Inode != uint64(i) {
					t.Fatalf("hint %d, %d added: socket %d has inode %d", hint, n, i, s.Inode)
				}
			}
		}
	}
}
