package openclaw

import (
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/clawwarden/clawwarden/internal/sockets"
)

func TestIsGatewayProcess(t *testing.T) {
	for _, tt := range []struct {
		comm    string
		cmdline []string
		want    bool
	}{
		{"openclaw-gatewa", []string{"openclaw-gateway"}, true}, // Linux, titled
		{"", []string{"openclaw-gateway"}, true},                // macOS via ps
		{"openclaw-gatewa", nil, true},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "gateway", "run"}, true},
		{"openclaw", []string{"/usr/local/bin/openclaw", "gateway", "--port", "18789"}, true},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "agent", "--message", "gateway"}, false},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "--profile", "work", "gateway"}, true},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "--profile", "gateway", "status"}, false},
		{"node", []string{"/usr/bin/node", "/srv/app/server.js", "gateway"}, false},
		{"openclaw", []string{"/usr/local/bin/openclaw", "status"}, false},
		{"MainThread", []string{"/usr/bin/node", "/x/openclaw/dist/process/spawn-broker/worker.js"}, false},
		{"openclaw-gate", nil, false}, // not the whole 15-byte comm
		{"bash", []string{"bash", "-c", "openclaw-gateway"}, false},
	} {
		if got := IsGatewayProcess(tt.comm, tt.cmdline); got != tt.want {
			t.Errorf("IsGatewayProcess(%q, %q) = %v, want %v", tt.comm, tt.cmdline, got, tt.want)
		}
	}
}

func TestBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"0.0.0.0:18789": true, "[::]:18789": true, "192.168.1.5:18789": true,
		"127.0.0.1:18789": false, "[::1]:18789": false, "127.0.0.2:18789": false,
	} {
		if got := (Listener{Address: netip.MustParseAddrPort(addr)}).BeyondLoopback(); got != want {
			t.Errorf("%s: BeyondLoopback = %v, want %v", addr, got, want)
		}
	}
}

func TestGatewayListeners(t *testing.T) {
	ap := netip.MustParseAddrPort
	ss := []sockets.Socket{
		{Proto: sockets.TCP, State: sockets.StateListen, Local: ap("0.0.0.0:18789"), PID: 10, Process: "openclaw-gatewa"},
		{Proto: sockets.TCP, State: sockets.StateListen, Local: ap("127.0.0.1:18791"), PID: 10, Process: "openclaw-gatewa"},
		{Proto: sockets.TCP, State: sockets.StateEstablished, Local: ap("127.0.0.1:18789"), Remote: ap("127.0.0.1:5000"), PID: 10, Process: "openclaw-gatewa"},
		{Proto: sockets.TCP, State: sockets.StateListen, Local: ap("0.0.0.0:22"), PID: 1, Process: "sshd"},
		{Proto: sockets.TCP, State: sockets.StateListen, Local: ap("0.0.0.0:8080"), PID: 20, Process: "node"},
		{Proto: sockets.TCP, State: sockets.StateListen, Local: ap("0.0.0.0:9999")}, // owner unknown
	}
	cmdlines := map[int][]string{20: {"node", "/opt/openclaw/openclaw.mjs", "gateway", "run"}}
	got := GatewayListeners(ss, func(pid int) []string { return cmdlines[pid] })
	var addrs []string
	for _, l := range got {
		addrs = append(addrs, l.Address.String())
	}
	if want := "0.0.0.0:18789 127.0.0.1:18791 0.0.0.0:8080"; strings.Join(addrs, " ") != want {
		t.Errorf("gateway listeners %v, want %s", addrs, want)
	}
}

func TestCmdlineOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if got := Cmdline(os.Getpid()); len(got) == 0 || got[0] != os.Args[0] {
		t.Errorf("Cmdline(self) = %q, want to start with %q", got, os.Args[0])
	}
}
