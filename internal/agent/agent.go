// Package agent tells whether the running process acts for an OpenClaw
// agent rather than for a person, so that clawwarden never asks for an
// approval on a terminal the agent controls.
//
// OpenClaw's exec tool can give a command a real pseudo-terminal and type
// into it, so "there is a terminal" does not mean "there is a person". Two
// signs are read:
//
//   - the environment: OpenClaw's exec tool sets OPENCLAW_SHELL=exec;
//   - the process tree (Linux): the process itself, or the session leader of
//     its controlling terminal, descends from an OpenClaw gateway (a process
//     titled openclaw-gateway, or node running openclaw's gateway command).
//
// Both are heuristics the agent can defeat: it can unset the variable
// (`env -u`), and start a process outside the gateway's tree through a
// terminal multiplexer or a service it controls. In same-user mode nothing
// can tell the agent from the person for certain; the sudo password (typed
// by the person, for every command) is the gate, and enforced mode is the
// answer. This package only keeps clawwarden from offering its own prompt
// to the agent.
package agent

import (
	"os"
	"path/filepath"
	"strings"
)

// Context is what [Detect] found.
type Context struct {
	Agent bool   // the process acts for an agent, as far as can be told
	Why   string // the evidence, for messages and the audit log
}

// maxDepth bounds the walk up the process tree.
const maxDepth = 64

// Detect reads the environment through getenv and, where the platform
// allows, the process tree of the process and of tty's session leader (tty
// may be nil).
func Detect(getenv func(string) string, tty *os.File) Context {
	if v := strings.TrimSpace(getenv("OPENCLAW_SHELL")); v == "exec" {
		return Context{Agent: true, Why: "OPENCLAW_SHELL=exec (set by OpenClaw's exec tool)"}
	}
	if pid, name, ok := gatewayAncestor(os.Getpid()); ok {
		return Context{Agent: true, Why: "this process descends from an OpenClaw gateway (" + name + ", pid " + itoa(pid) + ")"}
	}
	if tty != nil {
		if sid, ok := sessionOf(tty); ok && sid > 0 {
			if pid, name, ok := gatewayAncestor(sid); ok {
				return Context{Agent: true, Why: "the terminal's session (leader pid " + itoa(sid) + ") descends from an OpenClaw gateway (" + name + ", pid " + itoa(pid) + ")"}
			}
		}
	}
	return Context{}
}

// IsGateway reports whether a process with the given comm and argv is an
// OpenClaw gateway: OpenClaw titles its gateway process "openclaw-gateway"
// (comm is cut to 15 bytes: "openclaw-gatewa"); before the title is set, it
// is node (or the openclaw launcher) running openclaw with the gateway
// command.
func IsGateway(comm string, argv []string) bool {
	if strings.HasPrefix(comm, "openclaw-gatewa") {
		return true
	}
	if len(argv) == 0 {
		return false
	}
	if strings.HasPrefix(filepath.Base(argv[0]), "openclaw-gateway") {
		return true
	}
	for i := 0; i < len(argv) && i < 2; i++ {
		base := filepath.Base(argv[i])
		if base != "openclaw" && base != "openclaw.mjs" && !strings.Contains(argv[i], "/node_modules/openclaw/") {
			continue
		}
		// The first word after the launcher that is not an option is the
		// command.
		for _, a := range argv[i+1:] {
			if !strings.HasPrefix(a, "-") {
				return a == "gateway"
			}
		}
		return false
	}
	return false
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
