package ports

import (
	"fmt"
	"io"
	"testing"

	"github.com/clawwarden/clawwarden/internal/sockets"
)

// benchInventory is n loopback listeners of one process, like
// scripts/bench-ports' helper: n*10/11 TCP and the rest UDP.
func benchInventory(n int) sockets.Inventory {
	inv := sockets.Inventory{Source: "netlink", Sockets: make([]sockets.Socket, 0, n)}
	for i := range n {
		proto := sockets.TCP
		if i%11 == 10 {
			proto = sockets.UDP
		}
		s := sock(proto, fmt.Sprintf("127.0.0.1:%d", 32768+i), 4242, "benchlisteners", "/tmp/bench/benchlisteners")
		s.Inode = uint64(100000 + i)
		inv.Sockets = append(inv.Sockets, s)
	}
	sockets.Sort(inv.Sockets)
	return inv
}

func BenchmarkParseApproved(b *testing.B) {
	data, err := MarshalRules(Baseline(benchInventory(5500).Sockets))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseApproved(data, "approved_ports.json"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	inv := benchInventory(5500)
	rules := Baseline(inv.Sockets)
	for _, bc := range []struct {
		name    string
		rules   []Rule
		missing bool
	}{{"baseline", rules, false}, {"no-baseline", nil, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(Input{Inventory: inv, Rules: bc.rules, BaselineMissing: bc.missing, ApprovedFile: "/root/.openclaw/security/approved_ports.json", Host: "h", Now: testNow})
			}
		})
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	inv := benchInventory(5500)
	for _, bc := range []struct {
		name  string
		rules []Rule
	}{{"baseline", Baseline(inv.Sockets)}, {"no-baseline", nil}} {
		rep := Evaluate(Input{Inventory: inv, Rules: bc.rules, BaselineMissing: bc.rules == nil, ApprovedFile: "/root/.openclaw/security/approved_ports.json", Host: "h", Now: testNow})
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rep.WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
