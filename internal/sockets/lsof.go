package sockets

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// LsofArgs are the arguments the macOS inventory passes to lsof: numeric
// hosts and ports, every TCP and UDP socket, field output with pid, command,
// uid, fd, type, protocol, name and TCP state, and full command names.
var LsofArgs = []string{"-nP", "-iTCP", "-iUDP", "-FpcuftPnT", "+c0"}

// NetstatArgs are the arguments of the netstat fallback on macOS.
var NetstatArgs = []string{"-an", "-f", "inet", "-f", "inet6"}

// ParseLsof parses lsof field output (see [LsofArgs]) into sockets. Process
// sets start with a "p" line and carry "c" (command) and "u" (uid); file sets
// start with "f" and carry "t" (IPv4/IPv6), "P" (TCP/UDP), "n" (addresses)
// and "TST=" (TCP state). Files that are not TCP or UDP sockets are skipped.
func ParseLsof(r io.Reader) ([]Socket, error) {
	var (
		out   []Socket
		pid   int
		comm  string
		uid   = -1
		cur   *lsofFile
		lines int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		f := cur
		cur = nil
		if f.proto == "" || f.name == "" {
			return nil
		}
		s, err := f.socket()
		if err != nil {
			return err
		}
		s.PID, s.Process, s.UID = pid, comm, uid
		out = append(out, s)
		return nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines++
		line := sc.Text()
		if line == "" {
			continue
		}
		v := line[1:]
		switch line[0] {
		case 'p':
			if err := flush(); err != nil {
				return nil, fmt.Errorf("lsof line %d: %w", lines, err)
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("lsof line %d: pid %q: %w", lines, v, err)
			}
			pid, comm, uid = n, "", -1
		case 'c':
			comm = v
		case 'u':
			if n, err := strconv.Atoi(v); err == nil {
				uid = n
			}
		case 'f':
			if err := flush(); err != nil {
				return nil, fmt.Errorf("lsof line %d: %w", lines, err)
			}
			cur = &lsofFile{}
		case 't':
			if cur != nil {
				cur.typ = v
			}
		case 'P':
			if cur != nil {
				switch v {
				case "TCP":
					cur.proto = TCP
				case "UDP":
					cur.proto = UDP
				}
			}
		case 'n':
			if cur != nil {
				cur.name = v
			}
		case 'T':
			if cur != nil && strings.HasPrefix(v, "ST=") {
				cur.state = State(v[3:])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("lsof line %d: %w", lines, err)
	}
	return out, nil
}

// lsofFile is one file set of lsof field output.
type lsofFile struct {
	typ, proto, name string
	state            State
}

func (f *lsofFile) socket() (Socket, error) {
	family := 4
	if f.typ == "IPv6" {
		family = 6
	}
	s := Socket{Proto: f.proto, Family: family, State: f.state, UID: -1}
	local, remote, connected := strings.Cut(f.name, "->")
	var err error
	if s.Local, err = parseLsofAddr(local, family); err != nil {
		return Socket{}, err
	}
	if connected {
		if s.Remote, err = parseLsofAddr(remote, family); err != nil {
			return Socket{}, err
		}
	}
	if f.proto == UDP {
		s.State = StateUnconnected
		if connected {
			s.State = StateEstablished
		}
	}
	return s, nil
}

// parseLsofAddr parses "127.0.0.1:80", "[::1]:80", "*:80" or "*:*".
func parseLsofAddr(s string, family int) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	host, port := s[:i], s[i+1:]
	return hostPort(s, strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), port, family)
}

// hostPort builds an address from a host ("*" for any) and a port ("*" for
// none).
func hostPort(orig, host, port string, family int) (netip.AddrPort, error) {
	var addr netip.Addr
	if host == "*" {
		addr = netip.IPv4Unspecified()
		if family == 6 {
			addr = netip.IPv6Unspecified()
		}
	} else {
		var err error
		if addr, err = netip.ParseAddr(host); err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %q: %w", orig, err)
		}
		addr = addr.Unmap()
	}
	var p uint64
	if port != "*" {
		var err error
		if p, err = strconv.ParseUint(port, 10, 16); err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %q: port: %w", orig, err)
		}
	}
	return netip.AddrPortFrom(addr, uint16(p)), nil
}

// ParseNetstat parses the socket table printed by BSD/macOS `netstat -an`
// (see [NetstatArgs]): "Proto Recv-Q Send-Q Local Foreign (state)", where
// addresses are written "127.0.0.1.8080", "::1.8080" or "*.8080" and the
// protocol is tcp4, tcp6, tcp46, udp4, udp6 or udp46 (46: dual stack).
// netstat does not name processes, so the sockets carry no owner.
func ParseNetstat(r io.Reader) ([]Socket, error) {
	var out []Socket
	sc := bufio.NewScanner(r)
	lines := 0
	for sc.Scan() {
		lines++
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		proto, fam, ok := strings.Cut(f[0], "p")
		if !ok || (proto != "tc" && proto != "ud") {
			continue
		}
		s := Socket{Proto: TCP, Family: 4, UID: -1}
		if proto == "ud" {
			s.Proto = UDP
		}
		switch fam {
		case "4":
		case "6", "46":
			s.Family = 6
		default:
			continue
		}
		var err error
		if s.Local, err = parseNetstatAddr(f[3], s.Family); err != nil {
			return nil, fmt.Errorf("netstat line %d: %w", lines, err)
		}
		if f[4] != "*.*" {
			if s.Remote, err = parseNetstatAddr(f[4], s.Family); err != nil {
				return nil, fmt.Errorf("netstat line %d: %w", lines, err)
			}
		}
		switch {
		case s.Proto == TCP && len(f) >= 6:
			s.State = State(f[5])
		case s.Proto == TCP:
			continue
		case s.Remote.IsValid():
			s.State = StateEstablished
		default:
			s.State = StateUnconnected
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseNetstatAddr parses "10.0.0.1.443", "fe80::1%lo0.123" or "*.5353".
func parseNetstatAddr(s string, family int) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	return hostPort(s, s[:i], s[i+1:], family)
}

// ParsePS parses `ps -axo pid=,comm=` output into pid → executable path. On
// macOS comm is the full path of the executable; entries that are not
// absolute paths are left out.
func ParsePS(r io.Reader) (map[int]string, error) {
	out := make(map[int]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		pidText, path, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil {
			continue
		}
		path = strings.TrimSpace(path)
		if strings.HasPrefix(path, "/") {
			out[pid] = path
		}
	}
	return out, sc.Err()
}

// mergeNetstat adds to attributed (from lsof) the sockets of fromNetstat that
// lsof did not list, without an owner, and returns how many it added.
func mergeNetstat(attributed, fromNetstat []Socket) ([]Socket, int) {
	type key struct {
		proto         string
		local, remote netip.AddrPort
	}
	seen := make(map[key]bool, len(attributed))
	for _, s := range attributed {
		seen[key{s.Proto, s.Local, s.Remote}] = true
	}
	added := 0
	for _, s := range fromNetstat {
		if seen[key{s.Proto, s.Local, s.Remote}] {
			continue
		}
		attributed = append(attributed, s)
		added++
	}
	return attributed, added
}
