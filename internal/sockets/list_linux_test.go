package sockets

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/clawwarden/clawwarden/internal/sockets/sockettest"
	"github.com/clawwarden/clawwarden/internal/testenv"
)

// scanEnv makes the test binary print an inventory as JSON (see
// TestHelperProcess), so a scan can run inside a network namespace or as
// another user.
const scanEnv = "CLAWWARDEN_SOCKETS_SCAN"

// TestHelperProcess is not a test: it is the entry point of helper processes
// (sockettest.StartHelper) and of scans run in namespaces (scanInNetns).
func TestHelperProcess(t *testing.T) {
	sockettest.HelperMain()
	source, ok := os.LookupEnv(scanEnv)
	if !ok {
		return
	}
	inv, err := List(context.Background(), Options{Listening: true, Established: true, Source: source})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(inv)
	os.Exit(0)
}

var sources = []string{SourceNetlink, SourceProcfs}

// selfProcess returns the comm and exe of the test process.
func selfProcess(t *testing.T) (comm, exe string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	exe, err = os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), exe
}

// find returns the socket of proto with the given local and remote address.
func find(ss []Socket, proto string, local, remote netip.AddrPort) (Socket, bool) {
	for _, s := range ss {
		if s.Proto == proto && s.Local == local && s.Remote == remote {
			return s, true
		}
	}
	return Socket{}, false
}

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// TestListOwnSockets opens real loopback sockets in the test process and
// checks that both sources list them with state, addresses and owner.
func TestListOwnSockets(t *testing.T) {
	type want struct {
		proto         string
		family        int
		state         State
		local, remote netip.AddrPort
	}
	var wants []want
	var closers []func() error
	t.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	for _, fam := range []struct {
		family int
		addr   string
	}{{4, "127.0.0.1:0"}, {6, "[::1]:0"}} {
		tcpNet, udpNet := fmt.Sprintf("tcp%d", fam.family), fmt.Sprintf("udp%d", fam.family)
		l, err := net.Listen(tcpNet, fam.addr)
		if err != nil {
			if fam.family == 6 {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		closers = append(closers, l.Close)
		c, err := net.Dial(tcpNet, l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, c.Close)
		sc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, sc.Close)
		u, err := net.ListenPacket(udpNet, fam.addr)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, u.Close)
		uc, err := net.Dial(udpNet, u.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, uc.Close)
		wants = append(wants,
			want{TCP, fam.family, StateListen, addrPort(t, l.Addr()), netip.AddrPort{}},
			want{TCP, fam.family, StateEstablished, addrPort(t, c.LocalAddr()), addrPort(t, c.RemoteAddr())},
			want{TCP, fam.family, StateEstablished, addrPort(t, sc.LocalAddr()), addrPort(t, sc.RemoteAddr())},
			want{UDP, fam.family, StateUnconnected, addrPort(t, u.LocalAddr()), netip.AddrPort{}},
			want{UDP, fam.family, StateEstablished, addrPort(t, uc.LocalAddr()), addrPort(t, uc.RemoteAddr())},
		)
	}
	comm, exe := selfProcess(t)
	for _, source := range sources {
		for _, opts := range []Options{
			{Listening: true, Established: true},
			{Listening: true},
			{Established: true},
		} {
			opts.Source = source
			t.Run(fmt.Sprintf("%s/listen=%v/est=%v", source, opts.Listening, opts.Established), func(t *testing.T) {
				inv, err := List(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if inv.Source != source {
					t.Errorf("source: got %q, want %q", inv.Source, source)
				}
				for _, w := range wants {
					s, ok := find(inv.Sockets, w.proto, w.local, w.remote)
					selected := (w.state == StateEstablished && opts.Established) || (w.state != StateEstablished && opts.Listening)
					if ok != selected {
						t.Errorf("%s %s %s -> %s: listed %v, want %v", w.proto, w.state, w.local, w.remote, ok, selected)
						continue
					}
					if !ok {
						continue
					}
					if s.State != w.state || s.Family != w.family {
						t.Errorf("%s %s: got state %s family %d, want %s %d", w.proto, w.local, s.State, s.Family, w.state, w.family)
					}
					if s.PID != os.Getpid() || s.Process != comm || s.Exe != exe {
						t.Errorf("%s %s: owner got pid=%d process=%q exe=%q, want %d %q %q", w.proto, w.local, s.PID, s.Process, s.Exe, os.Getpid(), comm, exe)
					}
					if s.UID != os.Geteuid() || s.Inode == 0 {
						t.Errorf("%s %s: got uid=%d inode=%d, want uid %d and an inode", w.proto, w.local, s.UID, s.Inode, os.Geteuid())
					}
				}
				for _, s := range inv.Sockets {
					if !opts.wants(s.Proto, s.State) {
						t.Errorf("unselected socket listed: %s", brief(s))
					}
				}
			})
		}
	}
}

func TestListNeedsSelection(t *testing.T) {
	if _, err := List(context.Background(), Options{}); err == nil {
		t.Error("List with nothing selected: got no error")
	}
	if _, err := List(context.Background(), Options{Listening: true, Source: "lsof"}); err == nil {
		t.Error("List with source lsof on linux: got no error")
	}
}

// scanInNetns runs the scan helper in ns, through wrapper (e.g. setpriv) if
// given, and decodes its inventory.
func scanInNetns(t *testing.T, ns *sockettest.Netns, exe, source string, wrapper ...string) Inventory {
	t.Helper()
	args := append(append(wrapper, exe), sockettest.HelperArgs()...)
	cmd := ns.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), scanEnv+"="+source)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("scan in %s: %v\n%s", ns.Name, err, stderr)
	}
	var inv Inventory
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatalf("scan output: %v\n%s", err, out)
	}
	return inv
}

// ownerless renders sockets without inode and uid, which vary between runs.
func ownerless(ss []Socket, helperPID int) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		remote := "-"
		if s.Remote.IsValid() {
			remote = s.Remote.String()
		}
		owner := "unknown"
		if s.PID == helperPID {
			owner = "helper:" + s.Process + ":" + filepath.Base(s.Exe)
		} else if s.PID != 0 {
			owner = fmt.Sprintf("pid %d", s.PID)
		}
		out[i] = fmt.Sprintf("%s%d %s %s %s %s", s.Proto, s.Family, s.State, s.Local, remote, owner)
	}
	return out
}

// TestListNetns runs a helper process named "node" inside a fresh network
// namespace with public binds (0.0.0.0, ::, and a non-loopback address) and
// checks that a scan inside the namespace lists exactly its sockets with the
// right owner, from both sources.
func TestListNetns(t *testing.T) {
	ns := sockettest.NewNetns(t)
	ns.AddAddr("10.200.9.1/24")
	node := sockettest.CopyTestBinary(t, "node")
	h := sockettest.StartHelper(t, ns.Command(node, sockettest.HelperArgs()...),
		"listen tcp 0.0.0.0:18789",
		"listen tcp 10.200.9.1:23",
		"listen tcp [::]:8080",
		"listen tcp 127.0.0.1:18792",
		"listen udp 10.200.9.1:161",
		"listen udp [::]:5353",
		"dial tcp 10.200.9.1:23",
	)
	_, clientPort, _ := strings.Cut(strings.Fields(h.Conns[0])[1], ":")
	for _, source := range sources {
		t.Run(source, func(t *testing.T) {
			inv := scanInNetns(t, ns, node, source)
			if inv.Source != source || inv.Unattributed != 0 || inv.Partial || inv.Note != "" {
				t.Errorf("got source %q unattributed %d partial %v note %q; want %q, 0, false, \"\"", inv.Source, inv.Unattributed, inv.Partial, inv.Note, source)
			}
			diffLines(t, ownerless(inv.Sockets, h.PID), []string{
				"tcp4 LISTEN 10.200.9.1:23 - helper:node:node",
				"tcp4 ESTABLISHED 10.200.9.1:23 10.200.9.1:" + clientPort + " helper:node:node",
				"tcp6 LISTEN [::]:8080 - helper:node:node",
				"tcp4 LISTEN 0.0.0.0:18789 - helper:node:node",
				"tcp4 LISTEN 127.0.0.1:18792 - helper:node:node",
				"tcp4 ESTABLISHED 10.200.9.1:" + clientPort + " 10.200.9.1:23 helper:node:node",
				"udp4 UNCONN 10.200.9.1:161 - helper:node:node",
				"udp6 UNCONN [::]:5353 - helper:node:node",
			})
		})
	}
}

// TestListUnprivileged scans as the user nobody: sockets of root's helper
// have no owner and the inventory says why; nobody's own helper is still
// attributed.
func TestListUnprivileged(t *testing.T) {
	ns := sockettest.NewNetns(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Skip(t, "needs setpriv (Debian package util-linux) to drop privileges")
	}
	exe := sockettest.CopyTestBinary(t, "cwhelper")
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	sockettest.StartHelper(t, ns.Command(exe, sockettest.HelperArgs()...), "listen tcp 127.0.0.1:2000", "listen udp 127.0.0.1:2001")
	nobody := sockettest.StartHelper(t, ns.Command(asNobody[0], append(append(asNobody[1:], exe), sockettest.HelperArgs()...)...), "listen tcp 127.0.0.1:3000")
	for _, source := range sources {
		t.Run(source, func(t *testing.T) {
			inv := scanInNetns(t, ns, exe, source, asNobody...)
			if !inv.Partial || inv.Unattributed != 2 || !strings.Contains(inv.Note, "without root") {
				t.Errorf("got partial %v unattributed %d note %q; want true, 2, a note about root", inv.Partial, inv.Unattributed, inv.Note)
			}
			for _, s := range inv.Sockets {
				switch s.Local.Port() {
				case 2000, 2001:
					if s.PID != 0 || s.Process != "" || s.UID != 0 {
						t.Errorf("root's socket %s: got pid %d process %q uid %d, want unknown owner with uid 0", s.Local, s.PID, s.Process, s.UID)
					}
				case 3000:
					if s.PID != nobody.PID || s.Process != "cwhelper" || s.UID != 65534 {
						t.Errorf("nobody's socket %s: got pid %d process %q uid %d, want %d cwhelper 65534", s.Local, s.PID, s.Process, s.UID, nobody.PID)
					}
				}
			}
		})
	}
}

// BenchmarkList measures one inventory of 1000 TCP and 100 UDP loopback
// listeners held by the benchmark process, per source.
func BenchmarkList(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 1200 {
		b.Skip("needs at least 1200 open files (ulimit -n)")
	}
	for i := 0; i < 1100; i++ {
		var c interface{ Close() error }
		var err error
		if i < 1000 {
			c, err = net.Listen("tcp4", "127.0.0.1:0")
		} else {
			c, err = net.ListenPacket("udp4", "127.0.0.1:0")
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
	}
	for _, source := range sources {
		b.Run(source, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inv, err := List(context.Background(), Options{Listening: true, Source: source})
				if err != nil {
					b.Fatal(err)
				}
				if len(inv.Sockets) < 1100 {
					b.Fatalf("listed %d sockets, want at least 1100", len(inv.Sockets))
				}
			}
		})
	}
}

func TestParseSockstat(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
	}{
		{"sockstat", "sockets: used 20\nTCP: inuse 5 orphan 0 tw 3 alloc 9 mem 30\nUDP: inuse 2 mem 0\nUDPLITE: inuse 7\nRAW: inuse 1\nFRAG: inuse 0 memory 0\n", 7},
		{"sockstat6", "TCP6: inuse 4\nUDP6: inuse 1\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n", 5},
		{"empty", "", 0},
		{"malformed", "TCP: inuse x\nUDP: 3\nTCP inuse 4\n", 0},
	}
	for _, tt := range tests {
		if got := parseSockstat([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
	if n := socketCount(); n < 0 || n > maxSocketHint {
		t.Errorf("socketCount() = %d", n)
	}
}
