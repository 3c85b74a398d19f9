//go:build !linux && !darwin

package sockets

import (
	"context"
	"fmt"
	"runtime"
)

func list(context.Context, Options) (Inventory, error) {
	return Inventory{}, fmt.Errorf("%s: %w", runtime.GOOS, ErrUnsupported)
}
