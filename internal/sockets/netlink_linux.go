package sockets

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// sock_diag constants (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	inetDiagReqLen   = 56 // sizeof(struct inet_diag_req_v2)
	inetDiagMsgLen   = 72 // sizeof(struct inet_diag_msg)
)

// netlinkScan dumps the sockets selected by opts through sock_diag, one dump
// per protocol and address family, with the state filter applied by the
// kernel. fn is called for every socket.
func netlinkScan(opts Options, fn func(Socket)) error {
	// A pooled receive buffer saves the peek system call per datagram.
	c, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, &netlink.Config{MessageBufferSize: 64 << 10})
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer c.Close()
	for _, proto := range [...]string{TCP, UDP} {
		mask := opts.stateMask(proto)
		for _, family := range [...]int{4, 6} {
			if err := netlinkDump(c, proto, family, mask, fn); err != nil {
				return fmt.Errorf("sock_diag %s%d dump: %w", proto, family, err)
			}
		}
	}
	return nil
}

// netlinkDump runs one inet_diag dump and parses the replies as they arrive.
func netlinkDump(c *netlink.Conn, proto string, family int, mask uint32, fn func(Socket)) error {
	var req [inetDiagReqLen]byte
	req[0] = unix.AF_INET
	if family == 6 {
		req[0] = unix.AF_INET6
	}
	req[1] = unix.IPPROTO_TCP
	if proto == UDP {
		req[1] = unix.IPPROTO_UDP
	}
	binary.NativeEndian.PutUint32(req[4:8], mask)
	msg := netlink.Message{
		Header: netlink.Header{
			Type:  sockDiagByFamily,
			Flags: netlink.Request | netlink.Dump,
		},
		Data: req[:],
	}
	if _, err := c.Send(msg); err != nil {
		return err
	}
	for m, err := range c.ReceiveIter() {
		if err != nil {
			return err
		}
		if m.Header.Type != sockDiagByFamily {
			continue
		}
		s, ok := parseDiagMsg(m.Data, proto)
		if !ok {
			return fmt.Errorf("short inet_diag_msg (%d bytes)", len(m.Data))
		}
		fn(s)
	}
	return nil
}

// parseDiagMsg decodes a struct inet_diag_msg.
func parseDiagMsg(b []byte, proto string) (Socket, bool) {
	if len(b) < inetDiagMsgLen {
		return Socket{}, false
	}
	family := 4
	if b[0] == unix.AF_INET6 {
		family = 6
	}
	sport := binary.BigEndian.Uint16(b[4:6])
	dport := binary.BigEndian.Uint16(b[6:8])
	src := diagAddr(b[8:24], family)
	dst := diagAddr(b[24:40], family)
	s := Socket{
		Proto:  proto,
		Family: family,
		State:  stateName(proto, b[1]),
		Local:  netip.AddrPortFrom(src, sport),
		UID:    int(binary.NativeEndian.Uint32(b[64:68])),
		Inode:  uint64(binary.NativeEndian.Uint32(b[68:72])),
	}
	if dport != 0 || !dst.IsUnspecified() {
		s.Remote = netip.AddrPortFrom(dst, dport)
	}
	return s, true
}

// diagAddr decodes an inet_diag address (network byte order, IPv4 in the
// first four bytes), unmapping IPv4-mapped IPv6 addresses.
func diagAddr(b []byte, family int) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16([16]byte(b[:16])).Unmap()
}
