// Command clawwarden-sudo is the agent account's sudo in enforced mode:
// `enforce install` points the agent's ~/.openclaw/bin/sudo and sudoedit at
// it. It turns `sudo CMD ARGS…` into a request to the root helper through
// the real sudo (`sudo -n -- clawwarden-root request … -- CMD ARGS…`) and
// refuses what enforced mode cannot carry (see shim.ToHelper). It is small
// on purpose: it starts on every privileged command the agent runs, before
// sudo and the root helper. It decides nothing — sudo's one rule and the
// root helper do — so it trusts the agent's environment for the request's
// reason (OPENCLAW_PRIV_REASON), task id (OPENCLAW_TASK_SESSION_ID) and
// whether to ask to keep the approval (CLAWWARDEN_KEEP_SESSION=1).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/clawwarden/clawwarden/internal/rootside"
	"github.com/clawwarden/clawwarden/internal/shim"
	"github.com/clawwarden/clawwarden/internal/sudo"
)

func main() {
	edit := filepath.Base(os.Args[0]) == "sudoedit"
	keep := strings.TrimSpace(os.Getenv("CLAWWARDEN_KEEP_SESSION")) == "1"
	args, err := shim.ToHelper(os.Args[1:], edit, rootside.Layout{}.Helper(),
		strings.TrimSpace(os.Getenv("OPENCLAW_PRIV_REASON")), strings.TrimSpace(os.Getenv("OPENCLAW_TASK_SESSION_ID")), keep)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sudo (clawwarden, enforced mode): %v\n", err)
		os.Exit(3)
	}
	real, err := sudo.Find(os.Getenv("OPENCLAW_REAL_SUDO"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sudo (clawwarden, enforced mode): %v\n", err)
		os.Exit(9)
	}
	err = syscall.Exec(real, append([]string{"sudo"}, args...), shim.HelperEnv(os.Getenv))
	fmt.Fprintf(os.Stderr, "sudo (clawwarden, enforced mode): %s: %v\n", real, err)
	os.Exit(70)
}
