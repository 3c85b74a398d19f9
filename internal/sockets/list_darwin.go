//go:build darwin

package sockets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// list implements List on macOS with lsof's field output. Without root, lsof
// lists only the caller's own processes, so netstat adds the other sockets
// without an owner. When lsof is missing, netstat alone is used.
func list(ctx context.Context, opts Options) (Inventory, error) {
	var inv Inventory
	switch opts.Source {
	case "", SourceLsof:
	case SourceNetstat:
	default:
		return Inventory{}, fmt.Errorf("source %q on darwin: %w", opts.Source, ErrUnsupported)
	}
	var all []Socket
	if opts.Source != SourceNetstat {
		out, err := runTool(ctx, "lsof", LsofArgs...)
		switch {
		case err == nil:
			if all, err = ParseLsof(bytes.NewReader(out)); err != nil {
				return Inventory{}, err
			}
			inv.Source = SourceLsof
		case errors.Is(err, exec.ErrNotFound) && opts.Source == "":
		default:
			return Inventory{}, err
		}
	}
	root := os.Geteuid() == 0
	if inv.Source != SourceLsof || !root {
		out, err := runTool(ctx, "netstat", NetstatArgs...)
		if err != nil {
			return Inventory{}, err
		}
		ns, err := ParseNetstat(bytes.NewReader(out))
		if err != nil {
			return Inventory{}, err
		}
		all, _ = mergeNetstat(all, ns)
		if inv.Source == "" {
			inv.Source = SourceNetstat
		}
	}
	if out, err := runTool(ctx, "ps", "-axo", "pid=,comm="); err == nil {
		if exes, err := ParsePS(bytes.NewReader(out)); err == nil {
			for i := range all {
				all[i].Exe = exes[all[i].PID]
			}
		}
	}
	for _, s := range all {
		if s.Local.Port() == 0 || !opts.wants(s.Proto, s.State) { // port 0: not bound
			continue
		}
		if !s.Attributed() {
			inv.Unattributed++
		}
		inv.Sockets = append(inv.Sockets, s)
	}
	inv.Partial = !root && inv.Unattributed > 0
	inv.Note = note(inv.Unattributed, inv.Partial)
	return inv, nil
}

// runTool runs a system tool and returns its standard output. lsof exits 1
// when it finds nothing (or could not stat some file); that is a result, not
// an error.
func runTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin/", "/usr/bin/", "/sbin/"} {
			if _, serr := os.Stat(dir + name); serr == nil {
				path, err = dir+name, nil
				break
			}
		}
		if err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && name == "lsof" && ee.ExitCode() == 1 {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", path, bytes.TrimSpace(stderr.Bytes()), err)
	}
	return out, nil
}
