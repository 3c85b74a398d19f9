package sockets

import "testing"

func TestOwnedBy(t *testing.T) {
	node := Socket{PID: 42, Process: "node", Exe: "/usr/bin/node"}
	long := Socket{PID: 7, Process: "openclaw-gatewa", Exe: "/opt/oc/bin/openclaw-gateway (deleted)"}
	for _, tt := range []struct {
		s       Socket
		command string
		want    bool
	}{
		{node, "", true},
		{Socket{}, "", true},
		{Socket{}, "node", false}, // unknown owner
		{node, "node", true},
		{node, "/usr/bin/node", true},
		{node, "/usr/local/bin/node", false},
		{node, "nodejs", false},
		{long, "openclaw-gateway", true}, // comm is cut at 15 characters
		{long, "/opt/oc/bin/openclaw-gateway", true},
		{long, "openclaw-gatewayx", true},
		{long, "openclaw", false},
	} {
		if got := tt.s.OwnedBy(tt.command); got != tt.want {
			t.Errorf("%+v.OwnedBy(%q) = %v, want %v", tt.s, tt.command, got, tt.want)
		}
	}
}
