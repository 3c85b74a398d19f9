// Package sockettest gives the network tests of clawwarden real sockets in
// places they control: Linux network namespaces (created with `ip netns`,
// removed when the test ends) joined by veth pairs, per-namespace hosts and
// resolv.conf files, and helper processes that open listeners and
// connections inside a namespace and hold them until the test ends.
//
// Helper processes are the test binary itself, re-executed: a test package
// that uses [StartHelper] must call [HelperMain] from a test function named
// TestHelperProcess, which does nothing in a normal run.
//
// Only addresses inside namespaces the tests create are ever used; nothing
// is sent to any other non-loopback address. Everything needs root and the
// `ip` command; [RequireNetns] skips the test with the reason otherwise.
package sockettest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireNetns skips t unless it runs as root on Linux with the ip command.
func RequireNetns(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces exist only on Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (ip netns); CI runs this as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (Debian package iproute2) to create network namespaces")
	}
}

// Netns is a network namespace created for one test.
type Netns struct {
	t          testing.TB
	Name       string
	createdEtc bool // SetEtc created /etc/netns
}

// NewNetns creates a namespace named cwtest-<random> with its loopback
// interface up, and removes it (and its /etc/netns directory) when the test
// ends.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	RequireNetns(t)
	var b [4]byte
	rand.Read(b[:])
	n := &Netns{t: t, Name: "cwtest-" + hex.EncodeToString(b[:])}
	run(t, "ip", "netns", "add", n.Name)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.Name).Run()
		os.RemoveAll(filepath.Join("/etc/netns", n.Name))
		if n.createdEtc {
			os.Remove("/etc/netns") // only if no other namespace uses it
		}
	})
	n.IP("link", "set", "lo", "up")
	return n
}

// IP runs `ip -n NAME ARGS...` and fails the test on error.
func (n *Netns) IP(args ...string) {
	n.t.Helper()
	run(n.t, "ip", append([]string{"-n", n.Name}, args...)...)
}

// AddAddr adds cidr (e.g. "10.200.1.1/24") to the namespace's loopback
// interface, giving it a non-loopback address without any link.
func (n *Netns) AddAddr(cidr string) {
	n.t.Helper()
	n.IP("addr", "add", cidr, "dev", "lo")
}

// Link joins a and b with a veth pair, giving a the address cidrA and b the
// address cidrB (e.g. "10.200.7.1/24" and "10.200.7.2/24").
func Link(t testing.TB, a, b *Netns, cidrA, cidrB string) {
	t.Helper()
	run(t, "ip", "-n", a.Name, "link", "add", "cwa", "type", "veth", "peer", "name", "cwb", "netns", b.Name)
	a.IP("addr", "add", cidrA, "dev", "cwa")
	a.IP("link", "set", "cwa", "up")
	b.IP("addr", "add", cidrB, "dev", "cwb")
	b.IP("link", "set", "cwb", "up")
}

// SetEtc writes /etc/netns/NAME/<file>, which `ip netns exec` bind-mounts
// over /etc/<file> for commands run in the namespace (hosts, resolv.conf).
func (n *Netns) SetEtc(file, content string) {
	n.t.Helper()
	if _, err := os.Stat("/etc/netns"); os.IsNotExist(err) {
		n.createdEtc = true
	}
	dir := filepath.Join("/etc/netns", n.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// Command returns a command that runs name with args inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// helperEnv carries the helper's socket specification.
const helperEnv = "CLAWWARDEN_SOCKETTEST_HELPER"

// Helper is a running helper process holding sockets.
type Helper struct {
	// PID is the helper's process id: the pid of the command started, since
	// `ip netns exec` and setpriv exec the helper in place.
	PID int
	// Conns holds "PROTO LOCAL REMOTE" for every connection the helper made,
	// in the order of the specification.
	Conns []string
}

// HelperArgs are the arguments that make a copy of the test binary run as a
// helper process (see [StartHelper]).
func HelperArgs() []string { return []string{"-test.run=^TestHelperProcess$"} }

// StartHelper starts cmd, which runs a copy of the test binary with
// [HelperArgs] (directly, or through `ip netns exec`, setpriv or another
// wrapper that execs in place), as a helper process that opens the sockets in
// spec and holds them until the test ends. Each spec entry is one of:
//
//	listen tcp ADDR:PORT
//	listen udp ADDR:PORT
//	dial tcp ADDR:PORT    (an established TCP connection)
//	dial udp ADDR:PORT    (a connected UDP socket)
func StartHelper(t testing.TB, cmd *exec.Cmd, spec ...string) *Helper {
	t.Helper()
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join(spec, ";"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	h := &Helper{PID: cmd.Process.Pid}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if conn, ok := strings.CutPrefix(line, "conn "); ok {
			h.Conns = append(h.Conns, conn)
			continue
		}
		if pid, ok := strings.CutPrefix(line, "ready "); ok {
			if p, _ := strconv.Atoi(pid); p != h.PID {
				t.Fatalf("helper reports pid %s, started pid %d", pid, h.PID)
			}
			go io.Copy(io.Discard, stdout)
			return h
		}
	}
	cmd.Process.Kill()
	t.Fatalf("helper exited before it was ready: %s", stderr.String())
	return nil
}

// CopyTestBinary copies the running test binary to a new world-readable
// directory under the name name (so the helper's process name is name, for
// example "node") and returns its path.
func CopyTestBinary(t testing.TB, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "cwtest-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// HelperMain turns the test binary into a helper process when it was started
// by [StartHelper]; otherwise it returns at once. Call it from
// TestHelperProcess.
func HelperMain() {
	spec, ok := os.LookupEnv(helperEnv)
	if !ok {
		return
	}
	if err := serve(spec); err != nil {
		fmt.Fprintln(os.Stderr, "sockettest helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// serve opens the sockets of spec, reports them, and holds them until stdin
// reaches end of file.
func serve(spec string) error {
	var (
		mu   sync.Mutex
		keep []io.Closer
	)
	hold := func(c io.Closer) {
		mu.Lock()
		keep = append(keep, c)
		mu.Unlock()
	}
	w := bufio.NewWriter(os.Stdout)
	for _, item := range strings.Split(spec, ";") {
		f := strings.Fields(item)
		if len(f) != 3 {
			return fmt.Errorf("bad spec %q", item)
		}
		verb, proto, addr := f[0], f[1], f[2]
		network := proto // an IPv4 literal gets an IPv4 socket, not Go's dual-stack default
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			if ap.Addr().Is4() {
				network += "4"
			} else {
				network += "6"
			}
		}
		switch verb + " " + proto {
		case "listen tcp":
			l, err := net.Listen(network, addr)
			if err != nil {
				return err
			}
			hold(l)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					hold(c) // accepted connections stay open until exit
				}
			}()
		case "listen udp":
			c, err := net.ListenPacket(network, addr)
			if err != nil {
				return err
			}
			hold(c)
		case "dial tcp", "dial udp":
			c, err := net.DialTimeout(network, addr, 10*time.Second)
			if err != nil {
				return err
			}
			hold(c)
			fmt.Fprintf(w, "conn %s %s %s\n", proto, c.LocalAddr(), c.RemoteAddr())
		default:
			return fmt.Errorf("bad spec %q", item)
		}
	}
	fmt.Fprintf(w, "ready %d\n", os.Getpid())
	if err := w.Flush(); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	mu.Lock()
	defer mu.Unlock()
	for _, c := range keep {
		c.Close()
	}
	return nil
}
