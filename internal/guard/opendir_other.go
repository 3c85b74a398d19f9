//go:build !linux

package guard

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// openDir opens dir when no symlink leads to it (checked by resolving it,
// then opening the last element with O_NOFOLLOW; without openat2 a swap of
// a parent directory between the two is not excluded).
func openDir(dir string) (*os.File, error) {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return nil, fmt.Errorf("%q is not a clean absolute path", dir)
	}
	if r, err := filepath.EvalSymlinks(dir); err != nil || r != dir {
		return nil, fmt.Errorf("%s is reached through a symlink (it must be a directory reached without symlinks)", dir)
	}
	return os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
}
