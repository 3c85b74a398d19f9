// Command clawwarden-root is enforced mode's root helper: the one program
// the agent's account may run through sudo. It runs one request and exits
// with the command's status, or with one of its own refusals (see package
// helper). It takes its mode from nothing but its arguments.
package main

import (
	"os"

	"github.com/clawwarden/clawwarden/internal/helper"
)

func main() {
	os.Exit(helper.Main(os.Args[1:], os.Stdout, os.Stderr))
}
