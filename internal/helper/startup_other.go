//go:build !linux

package helper

import (
	"errors"

	"github.com/clawwarden/clawwarden/internal/shim"
)

// startup refuses: enforced mode is Linux only.
func startup() (string, []int, error) {
	return "", nil, errors.New("the root helper runs on Linux only (enforced mode is Linux only)")
}

func bootID() string { return "" }

func sudoOptions(int) (shim.Invocation, error) {
	return shim.Invocation{}, errors.New("the root helper runs on Linux only")
}
