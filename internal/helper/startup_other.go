//go:build !linux

package helper

import "errors"

// startup refuses: enforced mode is Linux only.
func startup() (string, []int, error) {
	return "", nil, errors.New("the root helper runs on Linux only (enforced mode is Linux only)")
}

func bootID() string { return "" }
