package sockets

import (
	"context"
	"fmt"
	"os"
)

// list implements List on Linux: sock_diag first, /proc/net when netlink is
// unavailable (or when opts.Source asks for it), then one attribution pass.
func list(ctx context.Context, opts Options) (Inventory, error) {
	var inv Inventory
	var c collector
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
		c = collector{}
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
