package openclaw

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/clawwarden/clawwarden/internal/sockets"
)

// A gateway process names itself "openclaw-gateway" (process.title): that
// is its command line on Linux and macOS, and its comm on Linux, cut to the
// kernel's 15 bytes. Before it sets the title, it is node (or the openclaw
// launcher) running OpenClaw's entry point with the gateway subcommand.
const gatewayTitle = "openclaw-gateway"

// IsGatewayProcess reports whether a process with this comm (name) and
// command line is an OpenClaw gateway.
func IsGatewayProcess(comm string, cmdline []string) bool {
	if comm != "" && strings.HasPrefix(gatewayTitle, comm) && len(comm) >= len("openclaw-gatewa") {
		return true
	}
	if len(cmdline) == 0 {
		return false
	}
	if filepath.Base(strings.Fields(cmdline[0] + " x")[0]) == gatewayTitle {
		return true
	}
	// [node] …/openclaw(.mjs) [global options] gateway …
	for i, a := range cmdline {
		if i > 2 {
			break
		}
		if strings.HasPrefix(filepath.Base(a), "openclaw") {
			return subcommand(cmdline[i+1:]) == "gateway"
		}
	}
	return false
}

// subcommand is the first argument that is neither an option nor the value
// of one of OpenClaw's global options that take a value.
func subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case slices.Contains([]string{"--profile", "--log-level", "--container"}, a):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

// Listener is a socket an OpenClaw gateway process listens on.
type Listener struct {
	PID     int            `json:"pid"`
	Process string         `json:"process"`
	Proto   string         `json:"proto"`
	Address netip.AddrPort `json:"address"`
}

// BeyondLoopback reports whether other hosts can reach the listener: it is
// bound to a wildcard or a non-loopback address.
func (l Listener) BeyondLoopback() bool { return !l.Address.Addr().IsLoopback() }

// GatewayListeners picks, from a socket inventory, the listening sockets
// owned by OpenClaw gateway processes. cmdline reads a process's command
// line (nil when unknown).
func GatewayListeners(ss []sockets.Socket, cmdline func(pid int) []string) []Listener {
	var out []Listener
	seen := map[int]bool{}
	for _, s := range ss {
		if !s.Listening() || !s.Attributed() {
			continue
		}
		gw, ok := seen[s.PID]
		if !ok {
			gw = IsGatewayProcess(s.Process, cmdline(s.PID))
			seen[s.PID] = gw
		}
		if gw {
			out = append(out, Listener{PID: s.PID, Process: s.Process, Proto: s.Proto, Address: s.Local})
		}
	}
	return out
}

// Cmdline reads a process's command line from /proc (nil elsewhere or when
// the process is gone).
func Cmdline(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}
