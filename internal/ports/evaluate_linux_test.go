package ports

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/finding"
	"github.com/clawwarden/clawwarden/internal/sockets"
)

// TestEvaluateRealListener opens a real loopback listener and checks that a
// scan flags it as unapproved with the test process as owner, and that an
// entry for its port and process name approves it.
func TestEvaluateRealListener(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := sockets.List(context.Background(), sockets.Options{Listening: true})
	if err != nil {
		t.Fatal(err)
	}
	find := func(r Report) (*Finding, *Listener) {
		var f *Finding
		var li *Listener
		for i := range r.Findings {
			if r.Findings[i].Port == uint16(port) && r.Findings[i].BindAddress == "127.0.0.1" {
				f = &r.Findings[i]
			}
		}
		for i := range r.Listeners {
			if r.Listeners[i].Port == uint16(port) && r.Listeners[i].BindAddress == "127.0.0.1" {
				li = &r.Listeners[i]
			}
		}
		return f, li
	}

	r := Evaluate(Input{Inventory: inv, Rules: []Rule{{Port: 1, Protocol: "tcp"}}, ApprovedFile: "approved_ports.json", Now: testNow})
	f, li := find(r)
	if f == nil || li == nil {
		t.Fatalf("listener 127.0.0.1:%d not reported", port)
	}
	if f.PID == nil || *f.PID != os.Getpid() || f.Process != strings.TrimSpace(string(comm)) {
		t.Errorf("owner: got pid %v process %q, want %d %q", f.PID, f.Process, os.Getpid(), comm)
	}
	if len(f.Flags) != 1 || f.Flags[0] != FlagUnapproved || f.Risk != string(finding.Low) {
		t.Errorf("got flags %v risk %s, want [unapproved] low", f.Flags, f.Risk)
	}

	rules := []Rule{{Port: port, Protocol: "tcp", Command: strings.TrimSpace(string(comm))}}
	r = Evaluate(Input{Inventory: inv, Rules: rules, ApprovedFile: "approved_ports.json", Now: testNow})
	f, li = find(r)
	if f != nil || li == nil || !li.Approved {
		t.Errorf("approved listener: got finding %+v, listener %+v; want approved without finding", f, li)
	}
}
