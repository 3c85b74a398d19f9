package sockets

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// parseProcNet reads a /proc/net/{tcp,tcp6,udp,udp6} table and calls fn for
// every socket whose state is in mask (a bitmask of kernel state numbers).
// Addresses are printed by the kernel as 32-bit words in host byte order;
// ports as big-endian hex.
func parseProcNet(r io.Reader, proto string, family int, mask uint32, fn func(Socket)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	line := 0
	var fields [12][]byte
	for sc.Scan() {
		line++
		if first { // header
			first = false
			continue
		}
		n := splitFields(sc.Bytes(), fields[:])
		if n < 10 {
			if n == 0 {
				continue
			}
			return fmt.Errorf("line %d: %d fields, want at least 10", line, n)
		}
		st, err := strconv.ParseUint(string(fields[3]), 16, 8)
		if err != nil {
			return fmt.Errorf("line %d: state %q: %w", line, fields[3], err)
		}
		if mask&(1<<st) == 0 {
			continue
		}
		local, err := parseHexAddrPort(fields[1])
		if err != nil {
			return fmt.Errorf("line %d: local address: %w", line, err)
		}
		remote, err := parseHexAddrPort(fields[2])
		if err != nil {
			return fmt.Errorf("line %d: remote address: %w", line, err)
		}
		uid, err := strconv.Atoi(string(fields[7]))
		if err != nil {
			return fmt.Errorf("line %d: uid %q: %w", line, fields[7], err)
		}
		inode, err := strconv.ParseUint(string(fields[9]), 10, 64)
		if err != nil {
			return fmt.Errorf("line %d: inode %q: %w", line, fields[9], err)
		}
		s := Socket{
			Proto:  proto,
			Family: family,
			State:  stateName(proto, uint8(st)),
			Local:  local,
			UID:    uid,
			Inode:  inode,
		}
		if remote.Port() != 0 || !remote.Addr().IsUnspecified() {
			s.Remote = remote
		}
		fn(s)
	}
	return sc.Err()
}

// splitFields splits b on spaces into out without allocating and returns the
// number of fields stored.
func splitFields(b []byte, out [][]byte) int {
	n := 0
	for len(b) > 0 && n < len(out) {
		i := 0
		for i < len(b) && b[i] == ' ' {
			i++
		}
		b = b[i:]
		if len(b) == 0 {
			break
		}
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			j = len(b)
		}
		out[n] = b[:j]
		n++
		b = b[j:]
	}
	return n
}

// parseHexAddrPort parses "0100007F:1F90" (IPv4) or a 32-hex-digit IPv6
// address followed by ":PORT". IPv4-mapped IPv6 addresses are unmapped.
func parseHexAddrPort(b []byte) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: no port", b)
	}
	hexAddr, hexPort := b[:i], b[i+1:]
	port, err := strconv.ParseUint(string(hexPort), 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: port: %w", b, err)
	}
	var addr netip.Addr
	switch len(hexAddr) {
	case 8:
		w, err := parseHex32(hexAddr)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%q: %w", b, err)
		}
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], w)
		addr = netip.AddrFrom4(a)
	case 32:
		var a [16]byte
		for k := 0; k < 4; k++ {
			w, err := parseHex32(hexAddr[8*k : 8*k+8])
			if err != nil {
				return netip.AddrPort{}, fmt.Errorf("%q: %w", b, err)
			}
			binary.NativeEndian.PutUint32(a[4*k:], w)
		}
		addr = netip.AddrFrom16(a).Unmap()
	default:
		return netip.AddrPort{}, fmt.Errorf("%q: address has %d hex digits, want 8 or 32", b, len(hexAddr))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseHex32 parses 8 hex digits.
func parseHex32(b []byte) (uint32, error) {
	var v uint32
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("bad hex digit %q", c)
		}
		v = v<<4 | uint32(d)
	}
	return v, nil
}

// socketInode parses a descriptor link of the form "socket:[12345]".
func socketInode(b []byte) (uint64, bool) {
	const prefix = "socket:["
	if len(b) < len(prefix)+2 || !bytes.HasPrefix(b, []byte(prefix)) || b[len(b)-1] != ']' {
		return 0, false
	}
	var v uint64
	for _, c := range b[len(prefix) : len(b)-1] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
