//go:build !linux

package enforce

import "errors"

var errLinuxOnly = errors.New("enforced mode is Linux only")

func linkShims(string, []string, string, int, int) ([]string, error) { return nil, errLinuxOnly }

func unlinkShim(string, ...string) (bool, error) { return false, errLinuxOnly }
