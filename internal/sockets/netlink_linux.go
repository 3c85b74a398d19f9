package sockets

import (
	"encoding/binary"
	"fmt"
	"net/netip"

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
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	// One receive buffer for every datagram: the kernel fills at most 32 KB
	// per datagram of a dump.
	buf := make([]byte, 64<<10)
	seq := uint32(0)
	for _, proto := range [...]string{TCP, UDP} {
		mask := opts.stateMask(proto)
		for _, family := range [...]int{4, 6} {
			seq++
			if err := netlinkDump(fd, buf, seq, proto, family, mask, fn); err != nil {
				return fmt.Errorf("sock_diag %s%d dump: %w", proto, family, err)
			}
		}
	}
	return nil
}

// netlinkDump runs one inet_diag dump and parses the replies as they arrive.
func netlinkDump(fd int, buf []byte, seq uint32, proto string, family int, mask uint32, fn func(Socket)) error {
	var req [unix.NLMSG_HDRLEN + inetDiagReqLen]byte
	binary.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:6], sockDiagByFamily)
	binary.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:12], seq)
	body := req[unix.NLMSG_HDRLEN:]
	body[0] = unix.AF_INET
	if family == 6 {
		body[0] = unix.AF_INET6
	}
	body[1] = unix.IPPROTO_TCP
	if proto == UDP {
		body[1] = unix.IPPROTO_UDP
	}
	binary.NativeEndian.PutUint32(body[4:8], mask)
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	for {
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if flags&unix.MSG_TRUNC != 0 {
			return fmt.Errorf("reply truncated to %d bytes", n)
		}
		done, err := netlinkReplies(buf[:n], seq, proto, fn)
		if done || err != nil {
			return err
		}
	}
}

// netlinkReplies parses one datagram of replies to the dump numbered seq and
// reports whether it ended the dump.
func netlinkReplies(b []byte, seq uint32, proto string, fn func(Socket)) (done bool, err error) {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return false, fmt.Errorf("malformed netlink message (length %d of %d bytes)", l, len(b))
		}
		typ := binary.NativeEndian.Uint16(b[4:6])
		mseq := binary.NativeEndian.Uint32(b[8:12])
		data := b[unix.NLMSG_HDRLEN:l]
		b = b[min(len(b), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
		if mseq != seq {
			continue // a reply to an earlier request
		}
		switch typ {
		case unix.NLMSG_DONE, unix.NLMSG_ERROR:
			if len(data) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(data[0:4])); e < 0 {
					return true, unix.Errno(-e)
				}
			}
			if typ == unix.NLMSG_DONE {
				return true, nil
			}
		case sockDiagByFamily:
			s, ok := parseDiagMsg(data, proto)
			if !ok {
				return false, fmt.Errorf("short inet_diag_msg (%d bytes)", len(data))
			}
			fn(s)
		}
	}
	return false, nil
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
