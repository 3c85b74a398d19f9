package sockets

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// list implements List on Linux: sock_diag first, /proc/net when netlink is
// unavailable (or when opts.Source asks for it), then one attribution pass.
func list(ctx context.Context, opts Options) (Inventory, error) {
	var inv Inventory
	c := newCollector(socketCount())
	collect := func(s Socket) {
		if opts.wants(s.Proto, s.State) {
			c.add(s)
		}
	}
	switch opts.Source {
	case "":
		if err := netlinkScan(opts, collect); err == nil {
			inv.Source = SourceNetlink
			break
		}
		c = newCollector(socketCount())
		if err := procfsScan(opts, collect); err != nil {
			return Inventory{}, err
		}
		inv.Source = SourceProcfs
	case SourceNetlink:
		if err := netlinkScan(opts, collect); err != nil {
			return Inventory{}, err
		}
		inv.Source = SourceNetlink
	case SourceProcfs:
		if err := procfsScan(opts, collect); err != nil {
			return Inventory{}, err
		}
		inv.Source = SourceProcfs
	default:
		return Inventory{}, fmt.Errorf("source %q on linux: %w", opts.Source, ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return Inventory{}, err
	}
	inv.Sockets = c.sockets()
	var denied bool
	inv.Unattributed, denied = attribute(inv.Sockets)
	inv.Partial = denied && inv.Unattributed > 0
	inv.Note = note(inv.Unattributed, inv.Partial)
	return inv, nil
}

// procfsScan reads /proc/net/{tcp,tcp6,udp,udp6} of the calling process's
// network namespace. A missing IPv6 table (IPv6 disabled) is skipped.
func procfsScan(opts Options, fn func(Socket)) error {
	for _, t := range [...]struct {
		file   string
		proto  string
		family int
	}{
		{"tcp", TCP, 4}, {"tcp6", TCP, 6}, {"udp", UDP, 4}, {"udp6", UDP, 6},
	} {
		path := "/proc/net/" + t.file
		f, err := os.Open(path)
		if err != nil {
			if t.family == 6 && os.IsNotExist(err) {
				continue
			}
			return err
		}
		err = parseProcNet(f, t.proto, t.family, opts.stateMask(t.proto), fn)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// socketCount returns how many TCP and UDP sockets are in use in this
// network namespace, from /proc/net/sockstat and /proc/net/sockstat6, or 0
// when that is unknown. It sizes the inventory, so a count that is off by a
// few costs nothing.
func socketCount() int {
	n := 0
	for _, file := range [...]string{"/proc/net/sockstat", "/proc/net/sockstat6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		n += parseSockstat(b)
	}
	return min(n, maxSocketHint)
}

// maxSocketHint bounds the inventory reserved beforehand.
const maxSocketHint = 1 << 18

// parseSockstat sums the "inuse" counts of the TCP and UDP lines of a
// sockstat file ("TCP: inuse 5 orphan 0 ...", "UDP6: inuse 2").
func parseSockstat(b []byte) int {
	n := 0
	for line := range strings.Lines(string(b)) {
		proto, rest, ok := strings.Cut(line, ":")
		if !ok || (proto != "TCP" && proto != "UDP" && proto != "TCP6" && proto != "UDP6") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 2 && f[0] == "inuse" {
			if v, err := strconv.Atoi(f[1]); err == nil && v > 0 {
				n += v
			}
		}
	}
	return n
}
