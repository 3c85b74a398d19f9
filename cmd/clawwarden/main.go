// Command clawwarden is the security guard for hosts that run OpenClaw agents.
// Invoked as "sudo" (through the opt-in shim) it acts as the sudo shim.
// See README.md for the commands and the exit status table.
package main

import (
	"os"

	"github.com/clawwarden/clawwarden/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args, cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ()}))
}
