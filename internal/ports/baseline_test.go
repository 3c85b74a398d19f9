package ports

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwarden/clawwarden/internal/safefile"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

func TestBaseline(t *testing.T) {
	inv := goldenInventory()
	inv.Sockets = append(inv.Sockets,
		sock("tcp", "[::]:18789", 4242, "node", "/usr/bin/node"),      // same entry as 0.0.0.0:18789
		sock("tcp", "127.0.0.1:6379", 77, "redis-server", ""),         // loopback redis: not insecure
		sock("tcp", "127.0.0.1:9000", 78, "php-fpm", ""),              // plain
		sockets.Socket{Proto: "tcp", State: sockets.StateEstablished}, // not a listener
	)
	got := Baseline(inv.Sockets)
	want := []Rule{
		{Port: 22, Protocol: "tcp", Command: "sshd", Comment: "REVIEW: public bind on ::"},
		{Port: 23, Protocol: "tcp", Command: "inetd", Comment: "REVIEW: public bind on 10.0.0.5; insecure: telnet — use SSH (port 22)"},
		{Port: 53, Protocol: "udp", Command: "systemd-resolve", Comment: "observed on 127.0.0.53"},
		{Port: 5432, Protocol: "tcp", Comment: "REVIEW: process unknown (run as root to see it); this entry approves any process on the port"},
		{Port: 6379, Protocol: "tcp", Command: "redis-server", Comment: "observed on 127.0.0.1"},
		{Port: 9000, Protocol: "tcp", Command: "php-fpm", Comment: "observed on 127.0.0.1"},
		{Port: 18789, Protocol: "tcp", Command: "node", Comment: "REVIEW: public bind on 0.0.0.0, ::; OpenClaw gateway: prefer `openclaw config set gateway.bind loopback`"},
		{Port: 18792, Protocol: "tcp", Command: "node", Comment: "observed on 127.0.0.1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rules, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// The baseline approves what it was made from, except what is still
	// flagged for being public or insecure.
	r := Evaluate(Input{Inventory: inv, Rules: got, ApprovedFile: "f", Now: testNow})
	for _, f := range r.Findings {
		for _, fl := range f.Flags {
			if fl == FlagUnapproved {
				t.Errorf("listener %s %s:%d unapproved by its own baseline", f.Protocol, f.BindAddress, f.Port)
			}
		}
	}
}

func TestWriteBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "approved_ports.json")
	first := []Rule{{Port: 22, Protocol: "tcp", Command: "sshd", Comment: "observed on 127.0.0.1"}}
	second := []Rule{{Port: 18789, Protocol: "tcp", Command: "node"}}
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

	backup, err := WriteBaseline(path, first, false, now)
	if err != nil || backup != "" {
		t.Fatalf("first write: got backup %q, err %v; want none", backup, err)
	}
	rules, err := LoadApproved(path)
	if err != nil || len(rules) != 1 || rules[0] != first[0] {
		t.Fatalf("written baseline: got %+v, %v", rules, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != safefile.FileMode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), safefile.FileMode)
	}

	_, err = WriteBaseline(path, second, false, now)
	if !errors.Is(err, ErrBaselineExists) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second write without force: got %v, want ErrBaselineExists naming the file", err)
	}
	if rules, _ := LoadApproved(path); rules[0].Port != 22 {
		t.Errorf("refused write changed the file: %+v", rules)
	}

	for i, wantBackup := range []string{path + ".bak-20261125T103000Z", path + ".bak-20261125T103000Z-1"} {
		backup, err = WriteBaseline(path, second, true, now)
		if err != nil || backup != wantBackup {
			t.Fatalf("forced write %d: got backup %q, err %v; want %q", i, backup, err, wantBackup)
		}
		old, err := LoadApproved(backup)
		if err != nil || len(old) != 1 {
			t.Fatalf("backup: got %+v, %v", old, err)
		}
		if fi, _ := os.Stat(backup); fi.Mode().Perm() != safefile.FileMode {
			t.Errorf("backup mode %v, want %v", fi.Mode().Perm(), safefile.FileMode)
		}
	}
	if rules, _ := LoadApproved(path); rules[0].Port != 18789 {
		t.Errorf("forced write: got %+v, want the new rules", rules)
	}

	// An unsafe existing baseline is refused, not backed up.
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteBaseline(path, first, true, now); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("world-writable baseline: got %v, want safefile.ErrUnsafe", err)
	}
}
