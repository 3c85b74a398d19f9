package helper

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clawwarden/clawwarden/internal/shim"
)

// sudoOptions reads the command line of the helper's parent, which must be
// sudo (the agent's one sudo right is this helper), and returns the
// options sudo was given. The agent chose them, but it cannot change them
// once sudo runs: sudo's memory is root's. Sudo's own rule cannot forbid
// options such as -b, so the helper refuses them itself.
func sudoOptions(ppid int) (shim.Invocation, error) {
	proc := "/proc/" + strconv.Itoa(ppid)
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		return shim.Invocation{}, fmt.Errorf("the helper's parent (pid %d): %w", ppid, err)
	}
	if b := filepath.Base(exe); b != "sudo" && b != "sudo-rs" {
		return shim.Invocation{}, fmt.Errorf("the helper's parent is %s, not sudo: it runs only as the agent's sudo right", exe)
	}
	data, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return shim.Invocation{}, fmt.Errorf("sudo's command line: %w", err)
	}
	args := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	if len(args) < 2 {
		return shim.Invocation{}, fmt.Errorf("sudo's command line is empty")
	}
	return shim.Parse(args[1:], filepath.Base(args[0]) == "sudoedit")
}
