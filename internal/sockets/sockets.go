// Package sockets lists the host's TCP and UDP sockets, IPv4 and IPv6, with
// the process that owns each one. It is the one socket inventory that every
// network feature of clawwarden (ports, egress, the assessment) reads.
//
// # Sources
//
// On Linux the inventory comes from the kernel's sock_diag netlink interface
// (inet_diag dumps filtered by state in the kernel, so listing the listeners
// of a host with thousands of established connections stays cheap), with a
// fallback that parses /proc/net/{tcp,tcp6,udp,udp6}. Either way the owning
// process is found by one pass over /proc/[pid]/fd that maps socket inodes to
// pids, followed by one read of comm and exe per owning pid; nothing is read
// per socket. On macOS the inventory parses the field output of lsof, and
// netstat supplies the sockets lsof cannot attribute.
//
// # Privileges
//
// Listing works without root. Without root the descriptors of other users'
// processes cannot be read, so their sockets carry no pid or process name:
// [Inventory.Partial] is then true and [Inventory.Note] says so, and callers
// show such processes as unknown.
package sockets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
)

// Socket protocols.
const (
	TCP = "tcp"
	UDP = "udp"
)

// State is the state of a socket, named as the kernel names TCP states. A
// bound but unconnected UDP socket has the state [StateUnconnected].
type State string

// The socket states the inventory reports by name.
const (
	StateListen      State = "LISTEN"
	StateEstablished State = "ESTABLISHED"
	StateUnconnected State = "UNCONN"
)

// Sources of an inventory, as reported in [Inventory.Source].
const (
	SourceNetlink = "netlink" // Linux sock_diag
	SourceProcfs  = "procfs"  // Linux /proc/net files
	SourceLsof    = "lsof"    // macOS lsof field output (plus netstat)
	SourceNetstat = "netstat" // macOS netstat only (lsof missing)
)

// ErrUnsupported is returned by [List] on platforms without an
// implementation, or when the requested source does not exist on this one.
var ErrUnsupported = errors.New("socket listing not supported")

// Socket is one TCP or UDP socket.
type Socket struct {
	Proto   string         // TCP or UDP
	Family  int            // 4 or 6: the socket's address family (a dual-stack socket is 6)
	State   State          // LISTEN, ESTABLISHED, UNCONN, or another TCP state name
	Local   netip.AddrPort // local address; IPv4-mapped IPv6 addresses are unmapped
	Remote  netip.AddrPort // remote address; zero for listeners and unconnected UDP
	Inode   uint64         // socket inode (Linux), 0 where unknown
	UID     int            // owning user id, -1 when unknown
	PID     int            // owning process id, 0 when unknown
	Process string         // owning process name (comm), "" when unknown
	Exe     string         // owning process executable path, "" when unknown
}

// Listening reports whether s waits for peers: a TCP listener or a bound,
// unconnected UDP socket.
func (s Socket) Listening() bool {
	return (s.Proto == TCP && s.State == StateListen) || (s.Proto == UDP && s.State == StateUnconnected)
}

// Attributed reports whether the owning process of s is known.
func (s Socket) Attributed() bool { return s.PID > 0 }

// OwnedBy reports whether command (a baseline's or an allowlist's) names the
// owner of s. An empty command names any owner. A command matches the
// process name (comm; a name longer than Linux's 15-character comm matches
// its truncation), the executable's base name, or, when it is an absolute
// path, the executable path. An unknown owner matches no command.
func (s Socket) OwnedBy(command string) bool {
	if command == "" {
		return true
	}
	if !s.Attributed() {
		return false
	}
	exe := strings.TrimSuffix(s.Exe, " (deleted)")
	switch {
	case command == s.Process:
		return true
	case strings.HasPrefix(command, "/"):
		return command == exe
	case exe != "" && command == filepath.Base(exe):
		return true
	case len(s.Process) == 15 && strings.HasPrefix(command, s.Process):
		return true
	}
	return false
}

// Options selects the sockets [List] returns.
type Options struct {
	// Listening selects TCP listeners and bound, unconnected UDP sockets.
	Listening bool
	// Established selects established TCP connections and connected UDP
	// sockets.
	Established bool
	// Source forces one source ("netlink", "procfs", "lsof"); empty picks
	// the best one available and falls back when it fails.
	Source string
}

// Inventory is the result of one scan.
type Inventory struct {
	// Sockets are sorted by protocol, local port, local address, remote
	// address and pid.
	Sockets []Socket
	// Source is the source that produced the sockets.
	Source string
	// Unattributed counts sockets without a known owning process.
	Unattributed int
	// Partial is true when some processes could not be inspected (other
	// users' processes, without root), so some owners are unknown.
	Partial bool
	// Note explains unknown owners for people; empty when every socket is
	// attributed.
	Note string
}

// List scans the host's sockets once.
func List(ctx context.Context, opts Options) (Inventory, error) {
	if !opts.Listening && !opts.Established {
		return Inventory{}, errors.New("sockets: nothing selected: set Listening or Established")
	}
	inv, err := list(ctx, opts)
	if err != nil {
		return Inventory{}, err
	}
	Sort(inv.Sockets)
	return inv, nil
}

// Sort orders sockets by protocol, local port, local address, remote address
// and pid (see [Compare]), so reports built from them are deterministic.
func Sort(ss []Socket) { slices.SortFunc(ss, Compare) }

// Compare orders two sockets for [Sort].
func Compare(a, b Socket) int {
	if a.Proto != b.Proto {
		return strings.Compare(a.Proto, b.Proto)
	}
	if c := cmp.Compare(a.Local.Port(), b.Local.Port()); c != 0 {
		return c
	}
	if c := a.Local.Addr().Compare(b.Local.Addr()); c != 0 {
		return c
	}
	if c := a.Remote.Compare(b.Remote); c != 0 {
		return c
	}
	if c := cmp.Compare(a.PID, b.PID); c != 0 {
		return c
	}
	return cmp.Compare(a.Inode, b.Inode)
}

// wants reports whether opts select a socket of proto in state st.
func (opts Options) wants(proto string, st State) bool {
	switch {
	case st == StateEstablished:
		return opts.Established
	case proto == TCP && st == StateListen, proto == UDP && st == StateUnconnected:
		return opts.Listening
	}
	return false
}

// note builds the human explanation of unknown owners.
func note(unattributed int, denied bool) string {
	switch {
	case unattributed == 0:
		return ""
	case denied:
		return fmt.Sprintf("%d socket(s) belong to processes of other users that cannot be inspected without root; their process shows as unknown (run as root for complete attribution)", unattributed)
	default:
		return fmt.Sprintf("%d socket(s) have no owning process (kernel sockets, connections not yet accepted, or processes that exited during the scan)", unattributed)
	}
}

// tcpStates names the kernel's TCP states (include/net/tcp_states.h).
var tcpStates = [...]State{
	1:  StateEstablished,
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSE",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: StateListen,
	11: "CLOSING",
	12: "NEW_SYN_RECV",
}

// Kernel state numbers used in filters.
const (
	kstateEstablished = 1
	kstateClose       = 7
	kstateListen      = 10
)

// stateName maps a kernel state number for proto to its name.
func stateName(proto string, st uint8) State {
	if proto == UDP {
		switch st {
		case kstateEstablished:
			return StateEstablished
		case kstateClose:
			return StateUnconnected
		}
	}
	if int(st) < len(tcpStates) && tcpStates[st] != "" {
		return tcpStates[st]
	}
	return State(fmt.Sprintf("STATE_%d", st))
}

// stateMask is the kernel state bitmask for proto under opts.
func (opts Options) stateMask(proto string) uint32 {
	var m uint32
	if opts.Established {
		m |= 1 << kstateEstablished
	}
	if opts.Listening {
		if proto == TCP {
			m |= 1 << kstateListen
		} else {
			m |= 1 << kstateClose
		}
	}
	return m
}
